"""Settings, read once from the environment by :meth:`Settings.from_env`.

Explicit arguments win over the environment; a missing or invalid value raises
:class:`~bot.errors.ConfigError` naming the variable. The ``policybot`` command first reads
a ``.env`` file (:func:`read_env_file`), so that settings kept there count for every command,
not only for ``make``; a variable already in the environment wins over the file.
"""

from __future__ import annotations

import os
import re
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


_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}")


def _slack_channel(env: Mapping[str, str], name: str) -> str:
    raw = _text(env, name)
    if raw and not _SLACK_CHANNEL.fullmatch(raw):
        raise ConfigError(
            f"{name} must be a channel id such as C0123ABCD (channel details, at the bottom), "
            f"not {raw[:40]!r}"
        )
    return raw


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {raw!r}")


def _url(env: Mapping[str, str], name: str) -> str:
    """An http(s) base URL, without its trailing slash; "" when unset."""
    raw = env.get(name, "").strip().rstrip("/")
    if raw and not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// URL, not {raw!r}")
    return raw


def _text(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


@dataclass(frozen=True)
class SlackSettings:
    """The Slack app's settings (``SLACK_*``); Slack is on when the bot token is set."""

    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    hr_channel: str = ""
    comms_channel: str = ""
    #: Another Web API base URL (a test server); empty for Slack's own.
    api_url: str = ""
    #: Where policy-change announcements go (``SLACK_ANNOUNCE_CHANNEL``); empty: nowhere.
    announce_channel: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        """Read ``SLACK_*``.

        Raises:
            ConfigError: Slack is on without a way to verify requests, ``SLACK_API_URL``
                is not an http(s) URL, or ``SLACK_ANNOUNCE_CHANNEL`` is not a channel id.
        """
        slack = cls(
            bot_token=_text(env, "SLACK_BOT_TOKEN"),
            signing_secret=_text(env, "SLACK_SIGNING_SECRET"),
            app_token=_text(env, "SLACK_APP_TOKEN"),
            hr_channel=_text(env, "SLACK_HR_CHANNEL"),
            comms_channel=_text(env, "SLACK_COMMS_CHANNEL"),
            api_url=_text(env, "SLACK_API_URL"),
            announce_channel=_slack_channel(env, "SLACK_ANNOUNCE_CHANNEL"),
        )
        if slack.api_url and not slack.api_url.startswith(("http://", "https://")):
            raise ConfigError("SLACK_API_URL must be an http:// or https:// URL")
        if slack.enabled and not (slack.signing_secret or slack.app_token):
            raise ConfigError(
                "SLACK_SIGNING_SECRET is required (or SLACK_APP_TOKEN for Socket Mode)"
            )
        return slack


@dataclass(frozen=True)
class TeamsSettings:
    """The Teams bot's settings (``MICROSOFT_*``, ``TEAMS_*``); Teams is on with an app id,
    or in local development mode (no authentication, loopback only)."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    tenant_id: str = ""
    hr_channel: str = ""
    comms_channel: str = ""
    service_url: str = ""
    local_dev: bool = False
    allow_remote_dev: bool = False
    #: Where policy-change announcements go (``TEAMS_ANNOUNCE_CHANNEL``); empty: nowhere.
    announce_channel: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.app_id) or self.local_dev

    @property
    def unauthenticated(self) -> bool:
        """Local development mode: no app id, so no JWT is checked."""
        return self.local_dev and not self.app_id

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings:
        """Read ``MICROSOFT_*`` and ``TEAMS_*``.

        Raises:
            ConfigError: a flag is neither 1 nor 0, or ``TEAMS_ANNOUNCE_CHANNEL`` is not a
                channel conversation id.
        """
        announce = _text(env, "TEAMS_ANNOUNCE_CHANNEL")
        if announce and not announce.startswith("19:"):
            raise ConfigError(
                "TEAMS_ANNOUNCE_CHANNEL must be a channel conversation id (19:…@thread.tacv2, "
                "from Get link to channel, URL-decoded)"
            )
        return cls(
            app_id=_text(env, "MICROSOFT_APP_ID"),
            app_password=_text(env, "MICROSOFT_APP_PASSWORD"),
            tenant_id=_text(env, "MICROSOFT_APP_TENANT_ID"),
            hr_channel=_text(env, "TEAMS_HR_CHANNEL"),
            comms_channel=_text(env, "TEAMS_COMMS_CHANNEL"),
            service_url=_text(env, "TEAMS_SERVICE_URL"),
            local_dev=_flag(env, "TEAMS_LOCAL_DEV"),
            allow_remote_dev=_flag(env, "TEAMS_ALLOW_REMOTE_DEV"),
            announce_channel=announce,
        )


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
    #: A personal situation told in a channel or group chat is answered privately
    #: (``POLICYBOT_PRIVATE_SITUATIONS``, default on).
    private_situations: bool = True
    #: The address browsers reach ``policybot serve`` at (``POLICYBOT_PUBLIC_URL``), for
    #: links to the full insights report; empty: no links.
    public_url: str = ""
    notify_days: float = 30.0
    #: Minutes of quiet after which a conversation's earlier questions are forgotten
    #: (0: every question is answered alone).
    conversation_minutes: float = 10.0
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
            private_situations=_flag(env, "POLICYBOT_PRIVATE_SITUATIONS", default=True),
            public_url=_url(env, "POLICYBOT_PUBLIC_URL"),
            notify_days=_number(env, "POLICYBOT_NOTIFY_DAYS", 30.0),
            conversation_minutes=_number(env, "POLICYBOT_CONVERSATION_MINUTES", 10.0),
            extra={k: v for k, v in env.items() if k.startswith(_PLATFORM_PREFIXES)},
        )
        settings = replace(settings, **overrides) if overrides else settings
        # A bad flag or channel is told at start, by its name.
        TeamsSettings.from_env(settings.extra)
        _slack_channel(settings.extra, "SLACK_ANNOUNCE_CHANNEL")
        return settings

    @property
    def slack(self) -> SlackSettings:
        """Slack's settings (read from the ``SLACK_*`` variables).

        Raises:
            ConfigError: they cannot work (see :meth:`SlackSettings.from_env`).
        """
        return SlackSettings.from_env(self.extra)

    @property
    def teams(self) -> TeamsSettings:
        """Teams' settings (read from the ``MICROSOFT_*`` and ``TEAMS_*`` variables)."""
        return TeamsSettings.from_env(self.extra)

    @property
    def platforms(self) -> tuple[str, ...]:
        """The chat platforms switched on: ``slack``, ``teams``, both or none."""
        return tuple(
            name
            for name, on in (
                ("slack", bool(_text(self.extra, "SLACK_BOT_TOKEN"))),
                ("teams", self.teams.enabled),
            )
            if on
        )

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def get(self, name: str, default: str = "") -> str:
        """A language-model variable (``OPENAI_*``, ``AZURE_OPENAI_*``), read by
        :class:`~bot.llm.config.LLMConfig`; Slack and Teams have :attr:`slack` and
        :attr:`teams`."""
        if not name.startswith(_MODEL_PREFIXES):
            raise KeyError(f"{name} is not a model variable: use Settings.slack or .teams")
        return self.extra.get(name, default).strip() or default


_MODEL_PREFIXES = ("OPENAI_", "AZURE_OPENAI_")
_PLATFORM_PREFIXES = ("SLACK_", "MICROSOFT_", "TEAMS_", *_MODEL_PREFIXES)


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
