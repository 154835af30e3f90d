"""Audit: how long the language model took, and why its answer was not used.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both nullable: rows written before this revision, and answers no model was asked
    # for, have neither.
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("llm_latency_ms", sa.Float(), nullable=True))
        batch.add_column(sa.Column("llm_fallback", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("llm_fallback")
        batch.drop_column("llm_latency_ms")
