"""Language-model answers, only ever as good as their citations.

When a model is configured (``OPENAI_API_KEY``, or Azure OpenAI: see ``bot/llm/config.py``),
:class:`OpenAIPhraser` asks it to answer an *answered* extractive draft again, in plain
words, from the same clauses. Its reply is used only when it parses, says it answers, and
cites at least one passage it was given. Otherwise staff get the extractive answer, and the
fallback is logged with its reason and counted in :class:`LLMStats`:

``timeout``      no reply within ``OPENAI_TIMEOUT`` seconds, retries included
``api_error``    the server failed (HTTP error after retries, connection refused ...)
``refusal``      the model refused, or its content filter stopped it
``unparseable``  the reply is not the JSON asked for (or was cut off)
``declined``     the model says the clauses do not answer the question
``no_citation``  no citation names a passage that was given
``busy``         too many model calls are still running

Whether the documents cover a question, and whom to escalate it to, stay the engine's: an
unanswered draft never reaches the model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from bot.answers.answering import Draft
from bot.answers.retrieval import Evidence
from bot.config import Settings
from bot.llm.config import LLMConfig, make_client
from bot.llm.prompt import Passage, ReplyError, check_reply, messages, passages, response_format
from bot.models import LLMUsage

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletion

log = logging.getLogger(__name__)

FALLBACK_REASONS = (
    "timeout",
    "api_error",
    "refusal",
    "unparseable",
    "declined",
    "no_citation",
    "busy",
)
#: Retries of a 429, a 5xx or a dropped connection, inside the overall timeout.
MAX_RETRIES = 1
#: Model calls running at once; more fall back at once rather than queue behind a slow server.
MAX_IN_FLIGHT = 16
#: Enough for a short answer; a limit keeps a runaway reply from costing seconds.
MAX_COMPLETION_TOKENS = 800


class LLMStats:
    """How many model answers were used, and how many fell back for each reason.

    Safe to share between threads; :meth:`snapshot` is what ``/healthz`` reports.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered = 0
        self._fallbacks: Counter[str] = Counter()

    def answered(self) -> None:
        with self._lock:
            self._answered += 1

    def fell_back(self, reason: str) -> None:
        with self._lock:
            self._fallbacks[reason] += 1

    def snapshot(self) -> dict[str, Any]:
        """``{"answered": n, "fallbacks": {reason: n, ...}}``, every reason included."""
        with self._lock:
            fallbacks = {reason: self._fallbacks[reason] for reason in FALLBACK_REASONS}
            return {"answered": self._answered, "fallbacks": fallbacks}


class OpenAIPhraser:
    """Answers an answered extractive draft again with a chat model (a :class:`Phraser`).

    Each call runs on a worker thread and is waited for at most the configured timeout,
    so that nothing (a retry after a 429, a slow server) keeps staff waiting longer; a
    call given up on finishes in the background, bounded by the client's own timeout.

    Args:
        config: the model settings.
        stats: where fallbacks are counted (default: a new :class:`LLMStats`).
    """

    def __init__(self, config: LLMConfig, *, stats: LLMStats | None = None) -> None:
        self.config = config
        self.stats = stats or LLMStats()
        self._lock = threading.Lock()
        self._client: OpenAI | None = None
        # Optional request features, each dropped for good once the server rejects it.
        self._structured = True
        self._reasoning_effort = True
        self._in_flight = threading.BoundedSemaphore(MAX_IN_FLIGHT)

    def phrase(
        self, question: str, evidence: Evidence, draft: Draft
    ) -> tuple[Draft, LLMUsage | None]:
        """The model's answer to ``question`` from ``draft``'s clauses, or ``draft``.

        Args:
            question: the cleaned question.
            evidence: what the search found (for the clauses' full text).
            draft: the extractive answer; only an answered one is rephrased.

        Returns:
            The draft to answer with and the model call's usage (None when no call was made).
        """
        given = passages(evidence, draft)
        if not draft.answered or not given:
            return draft, None
        started = time.perf_counter()
        if not self._in_flight.acquire(blocking=False):
            return self._fall_back(draft, "busy", f"{MAX_IN_FLIGHT} calls running", started)
        future = self._start(question, given)
        try:
            completion = future.result(timeout=self.config.timeout)
        except FutureTimeout:
            detail = f"no reply within {self.config.timeout:g} s"
            return self._fall_back(draft, "timeout", detail, started)
        except Exception as exc:  # whatever the client raised, after its retries
            return self._fall_back(draft, "api_error", describe_error(exc), started)
        return self._use(completion, given, draft, started)

    def _start(self, question: str, given: tuple[Passage, ...]) -> Future[ChatCompletion]:
        """Run the request on a daemon thread, so that one given up on never delays exit."""
        future: Future[ChatCompletion] = Future()

        def run() -> None:
            try:
                future.set_result(self._complete(question, given))
            except Exception as exc:  # handed to the caller, never lost in the thread
                future.set_exception(exc)
            finally:
                self._in_flight.release()

        try:
            threading.Thread(target=run, name="policybot-llm", daemon=True).start()
        except RuntimeError as exc:  # no thread could be started
            self._in_flight.release()
            future.set_exception(exc)
        return future

    def _complete(self, question: str, given: tuple[Passage, ...]) -> ChatCompletion:
        """One chat completion, asking again without a feature the server rejects."""
        from openai import BadRequestError

        client = self._openai()
        while True:
            structured, effort = self._structured, self._reasoning_effort
            options: dict[str, Any] = {
                "model": self.config.model,
                "messages": messages(question, given),
                "response_format": response_format(structured, given),
                "max_completion_tokens": MAX_COMPLETION_TOKENS,
            }
            if effort:
                # Reasoning models think for seconds by default; a grounded rewording
                # needs none of it.
                options["reasoning_effort"] = "none"
            try:
                completion: ChatCompletion = client.chat.completions.create(**options)
                return completion
            except BadRequestError as exc:
                if not self._drop_rejected(str(exc).lower(), structured, effort):
                    raise

    def _drop_rejected(self, error: str, structured: bool, effort: bool) -> bool:
        """Stop sending the feature a 400 names; True when there is one to drop."""
        with self._lock:
            if structured and ("response_format" in error or "json_schema" in error):
                self._structured = False
                log.info("%s rejects json_schema: asking for json_object", self.config.server)
                return True
            if effort and "reasoning_effort" in error:
                self._reasoning_effort = False
                log.info("%s rejects reasoning_effort: not sending it", self.config.server)
                return True
        return False

    def _openai(self) -> OpenAI:
        with self._lock:
            if self._client is None:
                self._client = make_client(
                    self.config, max_retries=MAX_RETRIES, timeout=self.config.timeout
                )
            return self._client

    def _use(
        self, completion: ChatCompletion, given: tuple[Passage, ...], draft: Draft, started: float
    ) -> tuple[Draft, LLMUsage]:
        """The model's answer when it passes the checks, else the extractive draft."""
        if not completion.choices:
            return self._fall_back(draft, "unparseable", "no choices", started, completion)
        choice = completion.choices[0]
        message = choice.message  # None from a server that answers in another shape
        if message is None:
            return self._fall_back(draft, "unparseable", "no message", started, completion)
        if message.refusal or choice.finish_reason == "content_filter":
            return self._fall_back(draft, "refusal", "the model refused", started, completion)
        if choice.finish_reason == "length":
            detail = "the reply was cut off at the token limit"
            return self._fall_back(draft, "unparseable", detail, started, completion)
        try:
            checked = check_reply(message.content, given, draft)
        except ReplyError as err:
            log.debug("unusable model reply: %r", message.content)
            return self._fall_back(draft, err.reason, err.detail, started, completion)
        if checked.dropped:
            log.warning("dropped citations of passages not given: %s", ", ".join(checked.dropped))
        self.stats.answered()
        usage = _usage(self.config, started, completion, None)
        log.info(
            "model answer from %s: %s prompt + %s completion tokens in %.0f ms",
            usage.model,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.latency_ms,
        )
        return checked.draft, usage

    def _fall_back(
        self,
        draft: Draft,
        reason: str,
        detail: str,
        started: float,
        completion: ChatCompletion | None = None,
    ) -> tuple[Draft, LLMUsage]:
        self.stats.fell_back(reason)
        log.warning("extractive answer given instead of the model's (%s): %s", reason, detail)
        return draft, _usage(self.config, started, completion, reason)


def phraser_from_settings(settings: Settings) -> OpenAIPhraser | None:
    """The phraser the settings configure, or None when no model is configured."""
    config = LLMConfig.from_settings(settings)
    if config is None:
        return None
    log.info("language-model answers from %s at %s", config.model, config.server)
    return OpenAIPhraser(config)


def _usage(
    config: LLMConfig, started: float, completion: ChatCompletion | None, fallback: str | None
) -> LLMUsage:
    tokens = completion.usage if completion is not None else None
    model = (completion.model if completion is not None else "") or config.model
    return LLMUsage(
        model=model[:100],
        prompt_tokens=tokens.prompt_tokens if tokens else None,
        completion_tokens=tokens.completion_tokens if tokens else None,
        latency_ms=(time.perf_counter() - started) * 1000,
        fallback=fallback,
    )


def describe_error(exc: Exception) -> str:
    """The error's class and HTTP status; its message may quote the request, so not that."""
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
