"""Partnership answers: what a contact sends through their personal link (issue 14).

Revision ID: 0006_h2_partnership_answers
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_h2_partnership_answers"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "partnership_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("form_key", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("proposed_due_on", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_message", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('membership', 'action_done', 'more_time')",
            name=op.f("ck_partnership_answers_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'superseded')",
            name=op.f("ck_partnership_answers_status"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_partnership_answers_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_partnership_answers_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_partnership_answers_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_partnership_answers_decided_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_answers")),
        sa.UniqueConstraint("form_key", name=op.f("uq_partnership_answers_form_key")),
    )
    with op.batch_alter_table("partnership_answers") as batch:
        batch.create_index("ix_partnership_answers_case_status", ["case_id", "status"])
        batch.create_index(op.f("ix_partnership_answers_contact_id"), ["contact_id"])
        batch.create_index(op.f("ix_partnership_answers_action_id"), ["action_id"])


def downgrade():
    op.drop_table("partnership_answers")
