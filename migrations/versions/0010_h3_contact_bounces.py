"""Contacts: an address the mail server refused for good is marked bouncing (when, the reply).

Revision ID: 0010_h3_contact_bounces
Revises: 0009_h7_search_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_h3_contact_bounces"
down_revision = "0009_h7_search_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("bouncing_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("bounce_reply", sa.String(500), nullable=True))


def downgrade():
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("bounce_reply")
        batch.drop_column("bouncing_at")
