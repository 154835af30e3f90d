"""Text in and out of Slack: the core's neutral markdown as mrkdwn, and Slack's markup as text.

Slack's mrkdwn is not Markdown: bold is ``*x*``, italics ``_x_``, links ``<url|label>``, and
``&``, ``<`` and ``>`` must be escaped. Block Kit caps a section's text at 3,000 characters,
so long texts are split at paragraph, line or sentence ends, or cut with "…".
"""

from __future__ import annotations

import html
import re

SECTION_LIMIT = 3000
ELLIPSIS = "…"

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.M)
_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_SLACK_USER = re.compile(r"slack:(U[A-Z0-9]+|W[A-Z0-9]+)")
_BOLD_MARK = "\x00"
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(text: str) -> str:
    """Escape the three characters Slack reserves for its own markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """The core's neutral markdown as Slack mrkdwn (bold, italics, links, headings, bullets)."""
    text = escape(markdown)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(1) or m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _LINK.sub(r"<\2|\1>", text)
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BULLET.sub(r"\1• ", text)
    return text.replace(_BOLD_MARK, "*")


def quote(text: str) -> str:
    """``text`` escaped and shown as a block quote, line by line."""
    return "\n".join(f">{line}" if line else ">" for line in escape(text).splitlines())


def mentions(text: str) -> str:
    """``slack:U123`` ids in a core message as Slack mentions, so people see names."""
    return _SLACK_USER.sub(r"<@\1>", text)


def from_slack(text: str, *, bot_user_id: str | None = None) -> str:
    """What a person typed, without Slack's markup: the bot's mention dropped, links and
    mentions as their labels, entities unescaped."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")

    def label(match: re.Match[str]) -> str:
        target, name = match.group(1), match.group(2)
        if name:
            return ("#" if target.startswith("#C") else "") + name
        return "@" + target[1:] if target.startswith("@") else target

    text = _SLACK_LINK.sub(label, text)
    return html.unescape(text).strip()


def escape_fit(text: str, limit: int) -> str:
    """``text`` escaped and cut to at most ``limit`` characters, never inside an entity."""
    text = escape(text)
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: max(limit - len(ELLIPSIS), 0)])
    return cut.rstrip() + ELLIPSIS


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def split(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at the most natural place."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = max(window.rfind(". "), window.rfind("; "), window.rfind(" "))
            cut = cut + 1 if cut >= limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
