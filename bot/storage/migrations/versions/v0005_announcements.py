"""Policy-change announcements: what was announced, who was told of which change, how to
reach people who asked, and who asked not to hear.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("since", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("by", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("since", "version", name="uq_announcements_since_version"),
    )
    op.create_index(op.f("ix_announcements_version"), "announcements", ["version"])
    op.create_table(
        "change_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("change_key", sa.String(64), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_change_notices_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_notices")),
        # Nobody is told twice of one change, whichever instance or announcement tries.
        sa.UniqueConstraint("person", "change_key", name="uq_change_notices_person_change_key"),
    )
    op.create_index(
        op.f("ix_change_notices_announcement_id"), "change_notices", ["announcement_id"]
    )
    op.create_table(
        "contacts",
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_updated_at"), "contacts", ["updated_at"])
    op.create_table(
        "mutes",
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_mutes")),
    )


def downgrade() -> None:
    op.drop_table("mutes")
    op.drop_index(op.f("ix_contacts_updated_at"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index(op.f("ix_change_notices_announcement_id"), table_name="change_notices")
    op.drop_table("change_notices")
    op.drop_index(op.f("ix_announcements_version"), table_name="announcements")
    op.drop_table("announcements")
