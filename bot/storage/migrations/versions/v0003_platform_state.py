"""Platform state that every ``serve`` instance shares: event ids seen, threads answered,
where case cards are, names, chats and service URLs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_state",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_state")),
        # The insert-if-absent of an event id rests on this constraint (atomic on SQLite and
        # PostgreSQL alike): the instance whose insert fails has seen a repeat.
        sa.UniqueConstraint("platform", "kind", "key", name="uq_platform_state_platform_kind_key"),
    )
    op.create_index(op.f("ix_platform_state_updated_at"), "platform_state", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_platform_state_updated_at"), table_name="platform_state")
    op.drop_table("platform_state")
