"""Language-model settings: OpenAI, Azure OpenAI or any OpenAI-compatible server.

Read from the platform variables of :class:`~bot.config.Settings` (see the README's
"Language model answers" section). ``openai`` is imported only by :func:`make_client`, when
a model is configured and first used: the core loads without it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import Settings
from bot.errors import ConfigError

if TYPE_CHECKING:
    from openai import OpenAI

log = logging.getLogger(__name__)

#: A current small, fast model that follows structured outputs (see the README for why).
DEFAULT_MODEL = "gpt-5.4-mini"
#: Seconds a person in Slack or Teams waits for the model before the extractive answer.
DEFAULT_TIMEOUT = 6.0
#: The newest generally available Azure OpenAI inference API version with structured outputs.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
OPENAI_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class LLMConfig:
    """Where the model is and how long to wait for it.

    Attributes:
        api_key: the OpenAI (or compatible server's) key, or the Azure OpenAI key.
        model: the chat model, or the Azure OpenAI deployment.
        timeout: seconds before the extractive answer is given instead.
        base_url: the OpenAI-compatible API's base URL (not used for Azure).
        embedding_model: the embedding model, or its Azure OpenAI deployment.
        azure_endpoint: the Azure OpenAI resource's endpoint; empty for OpenAI.
        azure_api_version: the Azure OpenAI API version.
    """

    api_key: str = field(repr=False)
    model: str
    timeout: float
    base_url: str = OPENAI_URL
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    azure_endpoint: str = ""
    azure_api_version: str = DEFAULT_AZURE_API_VERSION

    @property
    def azure(self) -> bool:
        return bool(self.azure_endpoint)

    @property
    def server(self) -> str:
        """Where requests go, for log messages (never the key)."""
        return self.azure_endpoint or self.base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig | None:
        """The configured model, or None when no model is configured.

        Raises:
            ConfigError: a value is invalid or Azure OpenAI is half configured; the
                message names the variable.
        """
        get = settings.get
        timeout = _seconds(get("OPENAI_TIMEOUT"))
        embedding_model = get("OPENAI_EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL)
        endpoint = get("AZURE_OPENAI_ENDPOINT")
        if endpoint:
            return cls(
                api_key=_required(settings, "AZURE_OPENAI_API_KEY"),
                model=_required(settings, "AZURE_OPENAI_DEPLOYMENT"),
                timeout=timeout,
                embedding_model=embedding_model,
                azure_endpoint=_url("AZURE_OPENAI_ENDPOINT", endpoint),
                azure_api_version=get("AZURE_OPENAI_API_VERSION", DEFAULT_AZURE_API_VERSION),
            )
        for name in ("AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_API_KEY"):
            if get(name):
                raise ConfigError(f"{name} is set but AZURE_OPENAI_ENDPOINT is not: set both")
        base_url = _url("OPENAI_BASE_URL", get("OPENAI_BASE_URL", OPENAI_URL))
        key = get("OPENAI_API_KEY")
        if not key:
            if base_url != OPENAI_URL:
                log.warning(
                    "OPENAI_BASE_URL is set but OPENAI_API_KEY is not, so language-model "
                    "answers are off (a server that needs no key accepts any value)"
                )
            return None
        return cls(
            api_key=key,
            model=get("OPENAI_MODEL", DEFAULT_MODEL),
            timeout=timeout,
            base_url=base_url,
            embedding_model=embedding_model,
        )


def make_client(config: LLMConfig, *, max_retries: int, timeout: float) -> OpenAI:
    """An ``openai`` client for the configured server (imports ``openai``).

    Args:
        config: the model settings.
        max_retries: retries of a failed request (429, 5xx, connection errors).
        timeout: seconds each request may take.
    """
    import openai

    if config.azure:
        # No azure_deployment: the client then routes each request by its ``model``, so
        # one client reaches both the chat and the embedding deployment.
        return openai.AzureOpenAI(
            azure_endpoint=config.azure_endpoint,
            api_key=config.api_key,
            api_version=config.azure_api_version,
            timeout=timeout,
            max_retries=max_retries,
        )
    return openai.OpenAI(
        api_key=config.api_key,
        base_url=config.base_url,
        timeout=timeout,
        max_retries=max_retries,
    )


def _seconds(raw: str) -> float:
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"OPENAI_TIMEOUT must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"OPENAI_TIMEOUT must be a positive number of seconds, not {raw!r}")
    return value


def _required(settings: Settings, name: str) -> str:
    value = settings.get(name)
    if not value:
        raise ConfigError(f"{name} is required when AZURE_OPENAI_ENDPOINT is set")
    return value


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")
