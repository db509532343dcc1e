"""Index case events by actor and time (the dashboard's last casework per rep).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.create_index("ix_case_events_actor_created", ["actor_id", "created_at"])


def downgrade():
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.drop_index("ix_case_events_actor_created")
