"""How ``policybot`` logs: a readable line per record for people, or one JSON object per line
for log collectors (``--log-format json`` or ``POLICYBOT_LOG_FORMAT=json``)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_start = logging.getLogger("policybot.start")
_start.setLevel(logging.INFO)  # what `serve` says as it starts is always told


class LogFormat(StrEnum):
    """The forms a log record can take on standard error."""

    TEXT = "text"
    JSON = "json"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, and ``exception`` when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _Output:
    form = LogFormat.TEXT


def configure(*, verbose: bool, form: LogFormat) -> None:
    """Send log records to standard error, at INFO when ``verbose`` else WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    json_lines = form is LogFormat.JSON
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    _Output.form = form


def tell(line: str) -> None:
    """Say a line of the start-up summary on standard error: as it is for a person, or as a
    log record when the log is JSON (so that a collector reads every line of it)."""
    if _Output.form is LogFormat.JSON:
        _start.info(line)
    else:
        print(line, file=sys.stderr, flush=True)
