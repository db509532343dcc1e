"""Index case events by kind and time: the search's notes are read by kind, not by scanning
every event (also the digests' news by kind and time).

Revision ID: 0009_h7_search_indexes
Revises: 0008_h4_reminder_pause
"""

from alembic import op

revision = "0009_h7_search_indexes"
down_revision = "0008_h4_reminder_pause"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.create_index("ix_case_events_kind_created", ["kind", "created_at"])


def downgrade():
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.drop_index("ix_case_events_kind_created")
