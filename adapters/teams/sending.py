"""Outgoing calls to the Bot Framework connector: retried on 429 and 5xx; typing; and
proactive turns (messages the bot starts, outside a conversation turn).

botbuilder's connector client does not retry a throttled (429) call at all, and retries a 5xx
only for some methods. Every message this adapter sends or updates goes through
:func:`with_retries` (tenacity): a bounded number of attempts, waiting as long as
``Retry-After`` asks (within a cap) or else backing off exponentially.

The typing indicator is this module's rather than botbuilder's ``ShowTypingMiddleware``, which
would type on every message activity (channel talk not addressed to the bot, button presses)
and sends without waiting for or logging a failure.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4
BASE_DELAY = 0.5
MAX_DELAY = 10.0
"""The longest wait between two attempts: Teams gives a turn about 15 seconds in all."""
TYPING_EVERY = 3.0
"""Teams shows a typing indicator for about three seconds: renew it while working."""


def status_of(error: BaseException) -> int | None:
    """The HTTP status of a failed connector call (msrest keeps the response), if any."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def retry_after(error: BaseException) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (delta or HTTP date)."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    raw = str(headers.get("Retry-After", "")).strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def retryable(error: BaseException) -> bool:
    """Throttled or a server error: worth another attempt."""
    status = status_of(error)
    return status is not None and (status == 429 or status >= 500)


_BACKOFF = wait_exponential(multiplier=BASE_DELAY, max=MAX_DELAY)


def _wait(state: RetryCallState) -> float:
    """As long as ``Retry-After`` asks, or else an exponential backoff; within the cap."""
    error = state.outcome.exception() if state.outcome else None
    asked = retry_after(error) if error else None
    return min(asked, MAX_DELAY) if asked is not None else _BACKOFF(state)


async def with_retries(call: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run ``call``, again after a 429 or 5xx, at most :data:`ATTEMPTS` times in all.

    Args:
        call: makes the request (a new coroutine each time).
        what: what is being sent, for the log.

    Raises:
        Exception: the last error, or at once one that is not worth retrying.
    """

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "teams: %s got HTTP %s (attempt %d of %d); retrying in %.1f s",
            what,
            status_of(error) if error else None,
            state.attempt_number,
            ATTEMPTS,
            state.upcoming_sleep,
        )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(ATTEMPTS),
        retry=retry_if_exception(retryable),
        wait=_wait,
        before_sleep=log_retry,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # tenacity returns or re-raises above


async def send(context: TurnContext, activity: Activity | str) -> str:
    """Send a message in the turn's conversation; returns the new activity's id."""
    response = await with_retries(lambda: context.send_activity(activity), what="a message")
    return str(getattr(response, "id", "") or "")


async def update(context: TurnContext, activity: Activity) -> None:
    """Replace a message the bot sent (``activity.id``) in the turn's conversation."""
    await with_retries(lambda: context.update_activity(activity), what="a card update")


async def _typing(context: TurnContext) -> None:
    try:
        await context.send_activity(Activity(type=ActivityTypes.typing))
    except Exception as error:  # a missing typing indicator must not cost the answer
        log.info("teams: typing indicator not sent: %s", type(error).__name__)


async def while_typing(context: TurnContext, work: Callable[[], T]) -> T:
    """Run blocking ``work`` on a worker thread, showing "typing" until it is done."""
    task = asyncio.get_running_loop().run_in_executor(None, work)
    while True:
        await _typing(context)
        done, _ = await asyncio.wait({task}, timeout=TYPING_EVERY)
        if done:
            return task.result()


async def proactive(
    adapter: BotAdapter,
    reference: ConversationReference,
    app_id: str,
    work: Callable[[TurnContext], Awaitable[T]],
) -> T:
    """Run ``work`` in a proactive turn in ``reference``'s conversation; raise its error.

    botbuilder hands an error in a turn to on_turn_error, which would apologise in the
    conversation and swallow it; the outbox has to see it instead, to try again.
    """
    outcome: list[Any] = []

    async def turn(context: TurnContext) -> None:
        # The continuation activity has a made-up id; left there, every message would be
        # sent as a reply to it. Without it, a message is a new post in the conversation.
        context.activity.id = None
        try:
            outcome.append(await work(context))
        except Exception as error:
            outcome.append(error)

    await adapter.continue_conversation(reference, turn, app_id)
    if not outcome:
        raise RuntimeError("the proactive turn did not run")
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    result: T = outcome[0]
    return result
