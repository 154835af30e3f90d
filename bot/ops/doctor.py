"""``policybot doctor``: is this installation ready, and if not, what to do about it.

Each check looks at one thing the bot depends on, for real (the database takes a write, the
Chroma server answers its heartbeat, Slack's ``auth.test`` accepts the token, the model
answers a one-token request), and says ok, or failed with the reason and the fix. Checks of
parts that are not configured are skipped and say so. Chat-platform checks live beside their
adapter and are handed in by the command line, so that this module imports no platform SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from bot.config import Settings
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.reload.index import IndexManager

log = logging.getLogger(__name__)

Status = Literal["ok", "warning", "failed", "skipped"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was looked at, how it went, and what to do."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{self.status:<8}{self.name:<14}{self.detail}{fix}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Probe = Callable[[Settings], Check]


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, "failed", detail, fix)


def skipped(name: str, detail: str) -> Check:
    return Check(name, "skipped", detail)


def run(settings: Settings, probes: Sequence[tuple[str, Probe]]) -> list[Check]:
    """Run every probe; one that raises counts as failed, with the error's kind."""
    checks = []
    for name, probe in probes:
        try:
            checks.append(probe(settings))
        except Exception as exc:
            log.debug("check %s raised", name, exc_info=True)
            checks.append(failed(name, f"{type(exc).__name__}: {exc}"[:300], "see the log"))
    return checks


def check_knowledge(settings: Settings) -> Check:
    from bot.knowledge.loaders import discover

    folder = settings.knowledge_dir
    if not folder.is_dir():
        return failed("knowledge", f"{folder} is not a directory", "set POLICYBOT_KNOWLEDGE_DIR")
    documents, _ = discover(folder)
    if not documents:
        return failed("knowledge", f"no policy documents in {folder}", "add the documents")
    return ok("knowledge", f"{len(documents)} documents in {folder}")


def _index(settings: Settings) -> tuple[IndexManager, Callable[[], str]]:
    """The index of these settings (nothing loaded: no model, no store), and how to name
    the embedding model they ask for."""
    from bot.engine import default_embedder, default_store
    from bot.reload.index import IndexManager

    embedder, name = default_embedder(settings)
    store = default_store(settings)
    return IndexManager(settings.index_dir, embedder=embedder, store_factory=store), name


def check_index(settings: Settings) -> Check:
    index, name = _index(settings)
    manifest = index.current_manifest()
    if manifest is None:
        return failed("index", "the documents are not indexed yet", "run `policybot reload`")
    if manifest.embedder != name():
        return failed(
            "index",
            f"built with {manifest.embedder}, but the configured model is {name()}",
            "run `policybot reload`",
        )
    version, chunks = manifest.knowledge_version, manifest.chunk_count
    return ok("index", f"knowledge version {version}, {chunks} chunks")


def check_reviews(settings: Settings) -> Check:
    from bot.knowledge.documents import INFO_FILE, due_for_review, read_infos

    live = _index(settings)[0].current_path()
    if live is None:
        return skipped("reviews", "no index yet")
    due = due_for_review(read_infos(live / INFO_FILE).values(), datetime.now(UTC).date())
    if due:
        names = ", ".join(f"{i.source} (due by {i.review_text})" for i in due)
        return Check(
            "reviews",
            "warning",
            f"past their review date: {names}",
            "ask each document's owner to review it, then reload the new version",
        )
    return ok("reviews", "no document is past its review date")


def check_database(settings: Settings) -> Check:
    from bot.storage.db import Database

    fix = "check DATABASE_URL, that the server runs, that it is not read-only, what holds its lock"
    try:
        db = Database.open(settings)
    except ConfigError as exc:
        return failed("database", str(exc), "correct DATABASE_URL")
    except Exception as exc:  # the message may name the host; the kind of failure is enough
        return failed("database", f"cannot be opened: {type(exc).__name__}", fix)
    try:
        db.ping()
    except Exception as exc:
        return failed("database", f"{db.dialect} does not take a write: {type(exc).__name__}", fix)
    finally:
        db.close()
    return ok("database", f"{db.dialect}: migrated, takes writes")


def check_chroma(settings: Settings) -> Check:
    if not settings.chroma_host:
        return skipped("chroma", "embedded in the data directory (no CHROMA_HOST)")
    import chromadb

    where = f"{settings.chroma_host}:{settings.chroma_port}"
    try:
        chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port).heartbeat()
    except Exception as exc:
        return failed(
            "chroma",
            f"no answer from {where}: {type(exc).__name__}",
            "start it with `chroma run`, or check CHROMA_HOST and CHROMA_PORT",
        )
    return ok("chroma", f"server at {where} answers")


def check_model(settings: Settings) -> Check:
    from bot.llm.config import LLMConfig, make_client

    try:
        config = LLMConfig.from_settings(settings)
    except ConfigError as exc:
        return failed("model", str(exc), "correct that variable")
    if config is None:
        return skipped("model", "no language model configured (extractive answers)")
    client = make_client(config, max_retries=0, timeout=config.timeout)
    try:
        client.chat.completions.create(
            model=config.model,
            messages=[{"role": "user", "content": "Reply with OK."}],
            max_completion_tokens=16,
        )
    except Exception as exc:
        status = getattr(exc, "status_code", None)
        reason = type(exc).__name__ + (f" (HTTP {status})" if status else "")
        return failed(
            "model",
            f"{config.model} at {config.server} did not answer: {reason}",
            "check the key, the model (or deployment) name and the endpoint",
        )
    return ok("model", f"{config.model} at {config.server} answers")


def core_probes() -> list[tuple[str, Probe]]:
    """The checks of the core, in the order they are shown."""
    return [
        ("knowledge", check_knowledge),
        ("index", check_index),
        ("reviews", check_reviews),
        ("database", check_database),
        ("chroma", check_chroma),
        ("model", check_model),
    ]
