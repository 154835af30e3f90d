"""``GET /healthz``: whether this instance can answer and record, for a load balancer.

Healthy means the live index loads and the database takes a query. A document past its review
date, or a language model that fails, is reported but does not make the instance unhealthy:
the bot still answers (from the documents, in their own words).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.engine import PolicyBot
from bot.errors import PolicyBotError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """The answer to a health check: ``body`` is the JSON the server returns."""

    healthy: bool
    body: dict[str, Any]


def check_health(engine: PolicyBot, check_database: Callable[[], None]) -> Health:
    """Check the index and the database for real (blocking: call it on a thread).

    Args:
        engine: the answer engine, whose live index is loaded if it is not yet.
        check_database: raises when the database cannot be used.
    """
    body: dict[str, Any] = {}
    healthy = True
    try:
        retriever_ready = engine.retriever()
        body["knowledge_version"] = engine.knowledge_version
        body["index"] = "ok" if retriever_ready else "unavailable"
        due = engine.documents_due()
        if due:  # still answering: a review date passed is for the admins, not an outage
            body["documents_due_for_review"] = [
                {"document": d.source, "review_by": d.review_by and d.review_by.isoformat()}
                for d in due
            ]
    except PolicyBotError as exc:
        # The details (paths, hosts) go to the log, not to whoever asks /healthz.
        log.warning("health check: the index is unavailable: %s", exc)
        body["index"] = f"unavailable: {type(exc).__name__}"
        healthy = False
    try:
        check_database()
        body["database"] = "ok"
    except Exception as exc:  # any database failure makes the bot unhealthy
        body["database"] = f"unavailable: {type(exc).__name__}"
        healthy = False
    stats = engine.llm_stats
    if stats is not None:  # model answers are optional; their failures only degrade wording
        body["llm"] = stats.snapshot()
    body["status"] = "ok" if healthy else "unavailable"
    return Health(healthy, body)
