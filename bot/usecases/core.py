"""What every use case shares: the engine, the case work, the audit spool, the platform state.

The case database may be unavailable (locked, down): staff still get answers, and the case
work is opened again on later use, at most every :data:`RETRY_DATABASE` seconds
(:attr:`Core.work`).
"""

from __future__ import annotations

import logging
import threading
import time

from bot.audit.spool import AuditSpool
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import EscalationError
from bot.ops.metrics import Metrics, Readings
from bot.platform_state import MemoryStateStore, PlatformState

log = logging.getLogger(__name__)

#: Seconds between attempts to open a case database that could not be opened.
RETRY_DATABASE = 10.0


class Core:
    """The parts the use cases share.

    Args:
        engine: the answer engine.
        casework: cases, outbox, audit and feedback; None when the database cannot be
            opened.
        spool: writes audit rows behind the answers (None: written as they are given).
        reconnect: open the case database again, from the engine's settings, when it was
            not available.
    """

    def __init__(
        self,
        engine: PolicyBot,
        casework: Casework | None,
        *,
        spool: AuditSpool | None = None,
        reconnect: bool = False,
    ) -> None:
        self.engine = engine
        self.casework = casework
        self.spool = spool
        self._reconnects = reconnect
        self._local_state = PlatformState(MemoryStateStore())
        self._lock = threading.Lock()
        self._retried_at = 0.0
        self.metrics = Metrics(
            Readings(
                backlog=lambda: self.work.outbox.backlog(),
                knowledge_version=lambda: self.engine.knowledge_version,
                model=lambda: stats.snapshot() if (stats := self.engine.llm_stats) else None,
            )
        )

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    @property
    def work(self) -> Casework:
        """The case work, or EscalationError when its database is unavailable."""
        if self.casework is None and self._reconnects:
            self._reconnect()
        if self.casework is None:
            raise EscalationError(
                "Cases cannot be recorded right now (the database is unavailable); "
                "please contact the team directly."
            )
        return self.casework

    def _reconnect(self) -> None:
        """Open the case database again if it failed before, not more often than allowed.

        The lock is not held while the database is opened: the answers of other threads
        take it too, and must not wait on the database.
        """
        with self._lock:
            now = time.monotonic()
            if self.casework is not None or now - self._retried_at < RETRY_DATABASE:
                return
            self._retried_at = now
        try:
            casework = Casework.open(self.settings)
        except Exception as exc:
            log.warning("the case database is still unavailable: %s", type(exc).__name__)
            return
        with self._lock:
            opened, self.casework = self.casework is None, self.casework or casework
        if not opened:  # another thread's attempt succeeded meanwhile
            casework.close()
            return
        log.info("the case database is available again")

    @property
    def state(self) -> PlatformState:
        """What adapters keep about their platform (event ids seen, threads answered, where
        case cards are...), shared by every instance on the case database; this process's
        own memory while the database is unavailable (its reconnection is left to uses that
        may wait, such as the audit writer: this one is on every answer's path)."""
        casework = self.casework
        return casework.state if casework is not None else self._local_state

    def first_delivery(self, platform: str, event_id: str) -> bool:
        """Whether this is the first delivery of a platform event (a message, a command):
        False for a repeat (a platform's retry, a replay, a resend to another instance).

        The event id is recorded in the platform state every instance shares
        (:meth:`PlatformState.seen`), without waiting on the database: while it cannot be
        written, this process remembers it meanwhile (a rare second answer is better than a
        lost question).

        Args:
            platform: ``slack`` or ``teams``.
            event_id: what identifies the delivery, the same however often it comes; ""
                (nothing identifies it) is always a first delivery.
        """
        if not event_id:
            return True
        return not self.state.seen(platform, event_id)

    def delivery_failed(self, platform: str, event_id: str) -> None:
        """The handling of a delivery failed: forget its event id, so that the platform's
        retry (on any instance) is handled as a first delivery."""
        if event_id:
            log.info("failed %s event %s: its retry will be handled", platform, event_id)
            self.state.forget(platform, event_id)
