"""Cases: partnership reminders paused until a date, with a reason. Outbox: an action's
reminder keys carry its due date (action:<id>:<due date>:...), so existing keys are rewritten
with the action's current date and are not queued a second time under the new form.

Revision ID: 0008_h4_reminder_pause
Revises: 0007_h8_page_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_h4_reminder_pause"
down_revision = "0007_h8_page_indexes"
branch_labels = None
depends_on = None

OLD_KINDS = ("due_soon", "overdue")


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reminders_paused_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reminders_paused_reason", sa.String(500), nullable=True))
    _rewrite_keys(_with_due_date)


def downgrade():
    _rewrite_keys(_without_due_date)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("reminders_paused_reason")
        batch.drop_column("reminders_paused_until")


def _with_due_date(parts, due_on):
    # action:<id>:due_soon[:c<contact>] -> action:<id>:<due>:due_soon[:c<contact>]
    if len(parts) > 2 and parts[2] in OLD_KINDS and due_on is not None:
        return [*parts[:2], due_on.isoformat(), *parts[2:]]
    return None


def _without_due_date(parts, _due_on):
    if len(parts) > 3 and parts[3] in OLD_KINDS:
        return [*parts[:2], *parts[3:]]
    return None


def _rewrite_keys(change):
    conn = op.get_bind()
    outbox = sa.table("outbox", sa.column("id"), sa.column("key"))
    actions = sa.table("actions", sa.column("id"), sa.column("due_on", sa.Date()))
    due = dict(conn.execute(sa.select(actions.c.id, actions.c.due_on)).all())
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.key).where(outbox.c.key.like("action:%"))
    ).all()
    for row_id, key in rows:
        parts = key.split(":")
        action_id = int(parts[1]) if parts[1].isdigit() else None
        new = change(parts, due.get(action_id))
        if new is not None:
            conn.execute(
                outbox.update().where(outbox.c.id == row_id).values(key=":".join(new))
            )
