"""Settings, read once from the environment by :meth:`Settings.from_env`.

Explicit arguments win over the environment; a missing or invalid value raises
:class:`~bot.errors.ConfigError` naming the variable. The ``policybot`` command first reads
a ``.env`` file (:func:`read_env_file`), so that settings kept there count for every command,
not only for ``make``; a variable already in the environment wins over the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

#: Names the settings file the command line reads (default ``.env`` in the current
#: directory); empty reads none.
ENV_FILE_VARIABLE = "POLICYBOT_ENV_FILE"
DEFAULT_DATA_DIR = "var"
DEFAULT_KNOWLEDGE_DIR = "knowledge"


def _ids(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Everything PolicyBot reads from its environment (see the README for each variable)."""

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    knowledge_dir: Path = Path(DEFAULT_KNOWLEDGE_DIR)
    embedding_model: str = ""
    embeddings: str = "local"
    database_url: str = ""
    chroma_host: str = ""
    chroma_port: int = 8000
    admins: frozenset[str] = frozenset()
    hr_reviewers: frozenset[str] = frozenset()
    comms_reviewers: frozenset[str] = frozenset()
    admin_token: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8080
    sla_hours: float = 8.0
    retention_days: float = 365.0
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``env`` (default ``os.environ``); keyword arguments win."""
        env = os.environ if env is None else env
        port_raw = _port(env, "CHROMA_PORT", 8000)
        embeddings = env.get("POLICYBOT_EMBEDDINGS", "local").strip().lower() or "local"
        if embeddings not in {"local", "openai"}:
            raise ConfigError("POLICYBOT_EMBEDDINGS must be 'local' or 'openai'")
        settings = cls(
            data_dir=Path(env.get("POLICYBOT_DATA_DIR", "").strip() or DEFAULT_DATA_DIR),
            knowledge_dir=Path(
                env.get("POLICYBOT_KNOWLEDGE_DIR", "").strip() or DEFAULT_KNOWLEDGE_DIR
            ),
            embedding_model=env.get("POLICYBOT_EMBEDDING_MODEL", "").strip(),
            embeddings=embeddings,
            database_url=env.get("DATABASE_URL", "").strip(),
            chroma_host=env.get("CHROMA_HOST", "").strip(),
            chroma_port=port_raw,
            host=env.get("POLICYBOT_HOST", "").strip() or "127.0.0.1",
            port=_port(env, "POLICYBOT_PORT", 8080),
            admins=_ids(env.get("POLICYBOT_ADMINS", "")),
            hr_reviewers=_ids(env.get("POLICYBOT_HR_REVIEWERS", "")),
            comms_reviewers=_ids(env.get("POLICYBOT_COMMS_REVIEWERS", "")),
            admin_token=env.get("POLICYBOT_ADMIN_TOKEN", "").strip(),
            sla_hours=_number(env, "POLICYBOT_SLA_HOURS", 8.0),
            retention_days=_number(env, "POLICYBOT_RETENTION_DAYS", 365.0),
            extra={k: v for k, v in env.items() if k.startswith(_PLATFORM_PREFIXES)},
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def get(self, name: str, default: str = "") -> str:
        """A platform or model variable (``SLACK_*``, ``MICROSOFT_*``, ``OPENAI_*`` ...)."""
        if not name.startswith(_PLATFORM_PREFIXES):
            raise KeyError(f"{name} is not a platform variable")
        return self.extra.get(name, default).strip() or default


_PLATFORM_PREFIXES = ("SLACK_", "MICROSOFT_", "TEAMS_", "OPENAI_", "AZURE_OPENAI_")


def read_env_file() -> Path | None:
    """Put the variables of the settings file into the environment, where not already set.

    Returns:
        The file read, or None (no such file, or ``POLICYBOT_ENV_FILE`` empty).
    """
    from dotenv import load_dotenv  # only the command line reads a file

    name = os.environ.get(ENV_FILE_VARIABLE, ".env").strip()
    path = Path(name) if name else None
    if path is None or not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path
