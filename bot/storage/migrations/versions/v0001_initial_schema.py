"""Initial schema: cases and their events, the outbox, feedback and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: a migration must not change when bot/ does.
_TIME = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def upgrade() -> None:
    _create_cases()
    _create_outbox()
    _create_feedback()
    _create_audit()


def _create_cases() -> None:
    counters = op.create_table(
        "case_counters",
        sa.Column("team", sa.String(20), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team", name=op.f("pk_case_counters")),
    )
    # One row per team, so that numbering is a single-row UPDATE under the row's lock.
    op.bulk_insert(
        counters,
        [{"team": "hr", "last_number": 0}, {"team": "communications", "last_number": 0}],
    )
    op.create_table(
        "cases",
        _id(),
        sa.Column("team", sa.String(20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("asker_id", sa.String(255), nullable=False),
        sa.Column("asker_name", sa.String(255), nullable=False),
        sa.Column("conversation_ref", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer_id", sa.String(64), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("waiting_since", _TIME, nullable=False),
        sa.Column("last_reminded_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("team", "number", name="uq_cases_team_number"),
    )
    op.create_index(op.f("ix_cases_answer_id"), "cases", ["answer_id"])
    op.create_index(op.f("ix_cases_status"), "cases", ["status"])
    op.create_table(
        "case_events",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("by", sa.String(255), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_events_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"])


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("destination", sa.String(100), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(20), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_outbox_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_destination"), "outbox", ["destination"])
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def _create_feedback() -> None:
    op.create_table(
        "feedback",
        _id(),
        sa.Column("answer_id", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rater", sa.String(64), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("answer_id", "rater", name="uq_feedback_answer_id_rater"),
    )
    op.create_index(op.f("ix_feedback_answer_id"), "feedback", ["answer_id"])
    op.create_index(op.f("ix_feedback_created_at"), "feedback", ["created_at"])


def _create_audit() -> None:
    op.create_table(
        "audit",
        _id(),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("answer_id", sa.String(64), nullable=True),
        sa.Column("asker", sa.String(255), nullable=False),
        sa.Column("asker_pseudonymised", sa.Boolean(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("escalation_suggested", sa.Boolean(), nullable=False),
        sa.Column("escalation_team", sa.String(20), nullable=True),
        sa.Column("escalation_reason", sa.Text(), nullable=False),
        sa.Column("knowledge_version", sa.String(64), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("case_ref", sa.String(16), nullable=True),
        sa.Column("llm_model", sa.String(100), nullable=True),
        sa.Column("llm_prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("llm_completion_tokens", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index(op.f("ix_audit_answer_id"), "audit", ["answer_id"])
    op.create_index(op.f("ix_audit_at"), "audit", ["at"])


def downgrade() -> None:
    for table in ("audit", "feedback", "outbox", "case_events", "cases", "case_counters"):
        op.drop_table(table)
