"""What ``GET /metrics`` tells Prometheus, per process (each ``serve`` instance is scraped).

Counted as it happens: questions (answered or declined), escalations by team, the time to
answer, reloads and how long they took. Read at each scrape: the outbox backlog and the age
of its oldest notification (from the database every instance shares), the live knowledge
version, and the language model's fallbacks by reason. No label carries personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from bot.storage.db import utcnow

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Seconds: a warm answer takes milliseconds, a model answer seconds.
ASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Readings:
    """What is read at each scrape, from wherever it lives."""

    #: Pending notifications and when the oldest was queued (None: none pending).
    backlog: Callable[[], tuple[int, datetime | None]]
    knowledge_version: Callable[[], str]
    #: Model fallbacks by reason, and model answers used (None: no model configured).
    model: Callable[[], dict[str, object] | None]


class Metrics:
    """The counters of one process and the readings taken at each scrape."""

    def __init__(self, readings: Readings) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.questions = Counter(
            "policybot_questions",
            "Questions asked, by whether the documents answered them.",
            ["answered"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "policybot_escalations",
            "Questions handed to a team (cases opened).",
            ["team"],
            registry=self.registry,
        )
        self.ask_seconds = Histogram(
            "policybot_ask_seconds",
            "Time to answer a question.",
            buckets=ASK_BUCKETS,
            registry=self.registry,
        )
        self.reloads = Counter(
            "policybot_reloads",
            "Reloads of the documents that rebuilt the index.",
            registry=self.registry,
        )
        self.reload_seconds = Histogram(
            "policybot_reload_seconds",
            "Time a reload took.",
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.registry.register(_Readings(readings))

    def asked(self, answered: bool, seconds: float) -> None:
        self.questions.labels(answered=str(answered).lower()).inc()
        self.ask_seconds.observe(seconds)

    def escalated(self, team: str) -> None:
        self.escalations.labels(team=team).inc()

    def reloaded(self, rebuilt: bool, seconds: float) -> None:
        if rebuilt:
            self.reloads.inc()
        self.reload_seconds.observe(seconds)

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)


class _Readings(Collector):
    """Gauges read at scrape time; a reading that fails is left out and logged."""

    def __init__(self, readings: Readings) -> None:
        self._readings = readings

    def collect(self) -> Iterator[Metric]:
        try:
            pending, oldest = self._readings.backlog()
        except Exception as exc:  # the database is down: the other metrics still count
            log.warning("metrics: the outbox cannot be read (%s)", type(exc).__name__)
        else:
            yield GaugeMetricFamily(
                "policybot_outbox_pending", "Notifications waiting for delivery.", value=pending
            )
            age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
            yield GaugeMetricFamily(
                "policybot_outbox_oldest_pending_seconds",
                "Age of the oldest notification waiting for delivery.",
                value=max(age, 0.0),
            )
        info = InfoMetricFamily("policybot_knowledge", "The live knowledge version.")
        info.add_metric([], {"version": self._readings.knowledge_version() or "none"})
        yield info
        model = self._readings.model()
        if model is not None:
            fallbacks = CounterMetricFamily(
                "policybot_model_fallbacks",
                "Model answers given up for the extractive one, by reason.",
                labels=["reason"],
            )
            counts = model.get("fallbacks", {})
            assert isinstance(counts, dict)
            for reason, count in counts.items():
                fallbacks.add_metric([reason], float(count))
            yield fallbacks
            answered = model.get("answered", 0)
            assert isinstance(answered, int)
            yield CounterMetricFamily(
                "policybot_model_answers", "Model answers used.", value=float(answered)
            )
