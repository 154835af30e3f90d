"""The admins' weekly insights digest in Slack's App Home (:func:`bot.messages.insights`).

The core decides who is an admin: for anyone else :meth:`bot.ops.digest.Reports.digest` refuses,
and App Home shows no digest.
"""

from __future__ import annotations

import logging

from adapters.slack.blocks import Block, blocks
from adapters.slack.context import SlackBot
from bot import messages
from bot.errors import NotAuthorizedError, PolicyBotError
from bot.ops.digest import Digest

log = logging.getLogger(__name__)


def digest_blocks(digest: Digest) -> list[Block]:
    """A header and one section (the link in it), so that App Home stays within Slack's 100
    blocks however many cases it lists."""
    return blocks(messages.insights(digest).parts)


def home_digest(bot: SlackBot, who: str) -> list[Block]:
    """The digest's blocks for App Home: none for someone who is not an admin, or when the
    report cannot be drawn now (App Home still shows everything else)."""
    try:
        return digest_blocks(bot.assistant.reports.digest(who))
    except NotAuthorizedError:
        return []
    except PolicyBotError as exc:
        log.info("no insights digest in App Home: %s", exc)
        return []
