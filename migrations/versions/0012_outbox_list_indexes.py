"""Index the Outbox page's order: newest first, whole or by status.

Its page of 50 is then read from an index, not sorted out of every message the outbox has
ever held.

Revision ID: 0012_outbox_list_indexes
Revises: 0011_h5_health
"""

from alembic import op

revision = "0012_outbox_list_indexes"
down_revision = "0011_h5_health"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_index("ix_outbox_created_at_id", ["created_at", "id"])
        batch_op.create_index("ix_outbox_status_created_at_id", ["status", "created_at", "id"])


def downgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_status_created_at_id")
        batch_op.drop_index("ix_outbox_created_at_id")
