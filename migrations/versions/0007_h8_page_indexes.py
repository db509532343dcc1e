"""Index cases by the case they follow (the case page's "a later case" link scanned every case).

Revision ID: 0007_h8_page_indexes
Revises: 0007_h1_two_factor
"""

from alembic import op

revision = "0007_h8_page_indexes"
down_revision = "0007_h1_two_factor"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.create_index("ix_cases_previous_case_id", ["previous_case_id"])


def downgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_index("ix_cases_previous_case_id")
