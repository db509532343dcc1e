"""Health: the last run of the sweep and the sender, and when a message was given up.

Revision ID: 0011_h5_health
Revises: 0010_h3_contact_bounces
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_h5_health"
down_revision = "0010_h3_contact_bounces"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("name IN ('sweep', 'send')", name=op.f("ck_job_runs_name")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("failed_at")
    op.drop_table("job_runs")
