"""Audit rows written behind the answer: to a spool file at once, to the database after.

Staff never wait on the audit. :meth:`AuditSpool.submit` appends the row, as one JSON line,
to this process's spool file in the data directory (microseconds, whatever the database is
doing) and wakes a writer thread. The writer moves the file aside and writes its rows to the
database in one transaction; only then is the file deleted. While the database is locked,
read-only or down, the rows wait in their files and the writer retries with a growing pause
(up to :data:`MAX_PAUSE` seconds), so a lock of any length loses nothing; a restart finds the
files and writes them. A row already in the database (a crash between the commit and the
deletion) is not written twice: rows are matched by answer id.

The bound is the disk: the spool holds one line (about 2 KB) per answer until the database
takes it, and memory holds none of them. Past :data:`WARN_BACKLOG` waiting rows the writer
warns at every attempt, so that a long outage is seen in the logs.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from filelock import FileLock, Timeout

from bot.audit.trail import AuditLog, AuditRecord, pseudonymise
from bot.models import Answer, LLMUsage, Question
from bot.storage.db import Clock, utcnow

log = logging.getLogger(__name__)

SPOOL_DIR = "audit-spool"
#: Seconds between attempts while the database refuses the rows: doubling up to this.
FIRST_PAUSE = 0.5
MAX_PAUSE = 30.0
WARN_BACKLOG = 10_000
_READY = ".ready.jsonl"


@dataclass(frozen=True)
class DrainResult:
    """What one pass of the writer did."""

    written: int
    waiting: int


class AuditSpool:
    """A per-process spool of audit rows and the thread that writes them.

    Args:
        data_dir: the data directory (the spool is its ``audit-spool/`` folder).
        key: the pseudonymisation key: a spooled row already holds the pseudonym.
        audit: gives the audit log the rows go to; it may raise while the database is
            unavailable (the rows then wait).
        clock: the current UTC time (tests pass a fake).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        key: bytes,
        audit: Callable[[], AuditLog],
        clock: Clock = utcnow,
    ) -> None:
        self._key = key
        self._audit = audit
        self._clock = clock
        self.directory = data_dir / SPOOL_DIR
        self.directory.mkdir(parents=True, exist_ok=True)
        self._name = f"{socket.gethostname()}-{os.getpid()}"
        self._live = self.directory / f"{self._name}.jsonl"
        self._sequence = count()
        self._append = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._adopt_orphans()

    def submit(self, question: Question, answer: Answer, usage: LLMUsage | None = None) -> None:
        """Spool one question and its answer; never raises, never waits on the database."""
        try:
            asker = pseudonymise(self._key, question.user_id)
            record = AuditRecord.of(question, answer, asker=asker, usage=usage, at=self._clock())
            line = json.dumps(record.to_json(), ensure_ascii=False) + "\n"
            with self._append, self._live.open("a", encoding="utf-8") as spool:
                spool.write(line)
        except (OSError, TypeError, ValueError):
            log.exception("could not spool the audit row of answer %s", answer.id)
            return
        self._wake.set()

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="policybot-audit", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the writer after one last attempt; what it could not write stays spooled."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def waiting(self) -> int:
        """Rows spooled and not yet in the database (all processes on this data directory)."""
        total = 0
        with self._append:  # not while this process moves its file aside
            for path in self.directory.glob("*.jsonl"):
                try:
                    with path.open("rb") as spool:
                        total += sum(1 for _ in spool)
                except OSError:  # written and deleted a moment ago
                    continue
        return total

    def drain(self, *, wait: float = 0.0) -> DrainResult:
        """Write every spooled row to the database, oldest file first.

        Args:
            wait: seconds to wait while another writer (this process's thread, or another
                process on this data directory) is writing; by default, none.

        Raises:
            Exception: whatever the database raised; the rows not written stay spooled.
        """
        try:
            with FileLock(str(self.directory / ".writer.lock"), timeout=wait):
                written = self._drain_locked()
        except Timeout:  # another process on this data directory is writing
            written = 0
        return DrainResult(written, self.waiting)

    def _drain_locked(self) -> int:
        with self._append:
            if self._live.exists():
                ready = self.directory / f"{self._name}.{next(self._sequence)}{_READY}"
                os.replace(self._live, ready)
        written = 0
        for path in sorted(self.directory.glob(f"*{_READY}"), key=_age):
            records = _read(path)
            written += self._audit().record_many(records)
            path.unlink()
        return written

    def _run(self) -> None:
        pause = FIRST_PAUSE
        while True:
            self._wake.wait(timeout=pause if pause > FIRST_PAUSE else 1.0)
            self._wake.clear()
            stopping = self._stop.is_set()
            try:
                result = self.drain()
            except Exception as exc:  # locked, read-only, unreachable: the rows wait
                waiting = self.waiting
                level = logging.WARNING if waiting >= WARN_BACKLOG else logging.INFO
                log.log(level, "audit rows wait for the database (%d spooled): %s", waiting, exc)
                pause = min(pause * 2, MAX_PAUSE)
            else:
                if result.written:
                    log.debug("wrote %d audit rows", result.written)
                pause = FIRST_PAUSE
            if stopping:
                return

    def _adopt_orphans(self) -> None:
        """Make the spool files of processes of this host that no longer run ready to write."""
        host = socket.gethostname()
        for path in self.directory.glob(f"{host}-*.jsonl"):
            if path.name.endswith(_READY):
                continue
            pid = path.stem.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
                os.replace(path, path.with_name(f"{path.stem}.orphan{_READY}"))


def _read(path: Path) -> list[AuditRecord]:
    """The records of a spool file; a line that is not one (a torn write) is logged."""
    records = []
    with path.open(encoding="utf-8", errors="replace") as spool:
        for number, line in enumerate(spool, start=1):
            if not line.strip():
                continue
            try:
                records.append(AuditRecord.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("skipped line %d of %s, not an audit row: %s", number, path.name, exc)
    return records


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
