"""Index audit entries by what they are about: the area page reads each contact's history
(bounces, opt-outs, changed addresses) from it, not by reading every entry.

Revision ID: 0014_audit_target_index
Revises: 0013_search_indexes
"""

from alembic import op

revision = "0014_audit_target_index"
down_revision = "0013_search_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.create_index(
            "ix_audit_entries_target_created", ["target_type", "target_id", "created_at"]
        )


def downgrade():
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_index("ix_audit_entries_target_created")
