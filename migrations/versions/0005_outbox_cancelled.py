"""Outbox: mail whose cause is gone is cancelled, with the reason and when.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD = "status IN ('queued', 'sending', 'sent', 'failed')"
NEW = "status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')"


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("cancelled_reason", sa.String(300), nullable=True))
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch.create_check_constraint("status", NEW)


def downgrade():
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch.create_check_constraint("status", OLD)
        batch.drop_column("cancelled_at")
        batch.drop_column("cancelled_reason")
