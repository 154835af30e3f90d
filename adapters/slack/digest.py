"""The admins' weekly insights digest in Slack's App Home (:mod:`bot.ops.digest`).

The core decides who is an admin: for anyone else :meth:`bot.ops.digest.Reports.digest` refuses,
and App Home shows no digest. The full report is linked (``POLICYBOT_PUBLIC_URL``), or the
digest says how to write it with the command line.
"""

from __future__ import annotations

import logging

from adapters.slack.blocks import Block, section
from adapters.slack.context import SlackBot
from adapters.slack.mrkdwn import escape
from bot.errors import NotAuthorizedError, PolicyBotError
from bot.ops.digest import Digest

log = logging.getLogger(__name__)


def digest_blocks(digest: Digest) -> list[Block]:
    """A header, then the digest's lines and where the full report is: two blocks, so that
    App Home stays within Slack's 100 however many cases it lists."""
    lines = "\n".join(f"• {escape(line)}" for line in digest.lines)
    if digest.link:
        full = f"<{digest.link}|{escape(digest.link_label)}> {escape(digest.link_note)}"
    else:
        full = escape(digest.full_report)
    return [
        {"type": "header", "text": {"type": "plain_text", "text": digest.title}},
        section(f"*{digest.since_line}*\n{lines}\n\n{full}"),
    ]


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
