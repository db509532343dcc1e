"""Web imports: the uploaded files, held from preview to confirm, and their outcomes.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("busy", sa.Boolean(), nullable=True),
        sa.Column(
            "uploaded_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name=op.f("fk_import_runs_uploaded_by_id_users")),
            nullable=True,
        ),
        sa.Column(
            "applied_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name=op.f("fk_import_runs_applied_by_id_users")),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
        sa.UniqueConstraint("busy", name=op.f("uq_import_runs_busy")),
    )
    op.create_index(op.f("ix_import_runs_status"), "import_runs", ["status"])
    op.create_index(op.f("ix_import_runs_created_at"), "import_runs", ["created_at"])


def downgrade():
    op.drop_index("ix_import_runs_created_at", "import_runs")
    op.drop_index("ix_import_runs_status", "import_runs")
    op.drop_table("import_runs")
