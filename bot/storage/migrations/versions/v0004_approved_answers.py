"""Approved answers: replies a team's reviewer approved for a question, served before the
documents' own answer to the same question; and which one the audit row served.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approved_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team", sa.String(20), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("case_ref", sa.String(16), nullable=True),
        sa.Column("approved_by", sa.String(255), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approved_answers")),
    )
    op.create_index(op.f("ix_approved_answers_status"), "approved_answers", ["status"])
    # Nullable: rows written before this revision, and answers drawn from the documents.
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("approved_answer_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("approved_answer_id")
    op.drop_index(op.f("ix_approved_answers_status"), table_name="approved_answers")
    op.drop_table("approved_answers")
