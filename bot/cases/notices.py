"""Whom a policy-change announcement tells directly, and what it tells them.

One :class:`Notice` is one direct message: one person, one clause change of one reload. The
:func:`audience` of an announcement is everyone who asked, within ``POLICYBOT_NOTIFY_DAYS``
and before the reload, a question whose answer cited a clause the reload changed or removed,
less those who muted these messages, those told of that change before (the notices' unique
constraint) and those the bot cannot reach (:mod:`bot.audit.contacts`). The message names the
clause, never the person's question.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit.contacts import Contact, ContactBook
from bot.audit.trail import PSEUDONYM_PREFIX
from bot.knowledge.changes import ChangeSet, ClauseChange, difference
from bot.storage.models import AuditRow, ChangeNoticeRow

#: Characters of a clause's new text quoted in a direct message.
QUOTED_CHARS = 1500
MUTE_HINT = {"slack": "type `/policy mute`", "teams": "send me `mute`"}
UNMUTE_HINT = {"slack": "`/policy unmute`", "teams": "`unmute`"}


@dataclass(frozen=True)
class Notice:
    """One direct message to send: one person, one clause change."""

    contact: Contact
    change: ClauseChange
    version: str
    asked_at: datetime

    @property
    def key(self) -> str:
        return change_key(self.version, self.change)

    @property
    def text(self) -> str:
        return notice_text(self.change, self.version, self.asked_at, self.contact.platform)


@dataclass(frozen=True)
class Audience:
    """Whom the direct messages of an announcement reach, counted."""

    notices: tuple[Notice, ...] = ()
    unreachable: int = 0
    muted: int = 0
    told_before: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "messages": len(self.notices),
            "people": len({n.contact.person for n in self.notices}),
            "unreachable": self.unreachable,
            "muted": self.muted,
            "already_told": self.told_before,
        }


Wanted = dict[tuple[str, str, str], tuple[ClauseChange, str, datetime]]


def audience(
    session: Session, sets: Sequence[ChangeSet], contacts: ContactBook, *, since: datetime
) -> Audience:
    """Who would be told of which change of ``sets``: people who asked since ``since`` and
    before the reload, a question whose answer cited a clause it changed or removed (read
    inside ``session``)."""
    asked = _askers_by_clause(session, since)
    wanted: Wanted = {}
    for change_set in sets:
        made = datetime.fromisoformat(change_set.at)
        for change in change_set.changes:
            if change.kind == "added":
                continue
            for asker, at in asked.get((change.source, change.section), {}).items():
                # A row linked to a case holds the real id: the pseudonym is the person.
                person = asker if asker.startswith(PSEUDONYM_PREFIX) else contacts.person(asker)
                if at < made:
                    wanted[(person, change_set.version, _clause_key(change))] = (
                        change,
                        change_set.version,
                        at,
                    )
    return _reachable(session, wanted, contacts)


def _reachable(session: Session, wanted: Wanted, contacts: ContactBook) -> Audience:
    """``wanted`` without the muted, those told before and those who cannot be reached."""
    muted = contacts.muted()
    keys = {change_key(version, change) for change, version, _ in wanted.values()}
    query = select(ChangeNoticeRow.person, ChangeNoticeRow.change_key).where(
        ChangeNoticeRow.change_key.in_(keys)
    )
    told = set(session.execute(query).tuples()) if keys else set()
    notices, unreachable, silenced, before = [], 0, 0, 0
    found: dict[str, Contact | None] = {}
    for (person, _version, _clause), (change, version, at) in sorted(wanted.items()):
        if person in muted:
            silenced += 1
            continue
        if (person, change_key(version, change)) in told:
            before += 1
            continue
        if person not in found:
            found[person] = contacts.contact(person)
        contact = found[person]
        if contact is None:
            unreachable += 1
            continue
        notices.append(Notice(contact, change, version, at))
    return Audience(tuple(notices), unreachable, silenced, before)


def _clause_key(change: ClauseChange) -> str:
    return "\n".join((change.source, change.section, change.title))


def change_key(version: str, change: ClauseChange) -> str:
    """What names one clause change of one reload, for the notices' unique constraint."""
    raw = f"{version}\n{_clause_key(change)}".encode()
    return hashlib.sha256(raw).hexdigest()


def _askers_by_clause(
    session: Session, since: datetime
) -> dict[tuple[str, str], dict[str, datetime]]:
    """For each cited (document, section), who asked (pseudonym or real id) and when last,
    among answered questions since ``since``."""
    rows = session.execute(
        select(AuditRow.at, AuditRow.asker, AuditRow.citations).where(
            AuditRow.at >= since, AuditRow.answered.is_(True)
        )
    ).tuples()
    asked: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)
    for at, asker, citations in rows:
        for citation in citations or ():
            clause = (str(citation.get("source", "")), str(citation.get("section", "")))
            seen = asked[clause].get(asker)
            if seen is None or at > seen:
                asked[clause][asker] = at
    return asked


def notice_text(change: ClauseChange, version: str, asked_at: datetime, platform: str) -> str:
    """The direct message about one change: the clause, how it changed, its new text. The
    person's question is not repeated."""
    clause = f"{change.document_title} {change.section} ({change.title})"
    lines = [
        "**A policy clause you were given has changed**",
        "",
        f"On {asked_at.day} {asked_at:%B} you asked PolicyBot a question whose answer rested "
        f"on {clause}.",
        "",
    ]
    if change.kind == "removed":
        lines.append("That clause has been removed from the policy documents.")
    else:
        lines += [
            f"It has changed: {difference(change.old, change.new)}. The new text:",
            "",
            *(f"> {line}" if line.strip() else ">" for line in _trim(change.new).splitlines()),
        ]
    hint = MUTE_HINT.get(platform, "ask an admin")
    lines += [
        "",
        f"Ask me again for an answer from the current documents. To stop these messages, {hint}.",
    ]
    return "\n".join(lines)


def mute_reply(platform: str, *, muted: bool, changed: bool) -> str:
    """What a person is told after ``mute`` or ``unmute``."""
    if muted:
        if not changed:
            return "You had already asked me not to message you about policy changes."
        again = UNMUTE_HINT.get(platform, "unmute")
        return (
            "Done: I won't message you about policy changes any more. "
            f"To hear of them again, use {again}."
        )
    if not changed:
        return "You already hear from me when a clause you asked about changes."
    return "Done: I'll message you when a policy clause you asked about changes."


def _trim(text: str) -> str:
    if len(text) <= QUOTED_CHARS:
        return text
    return text[:QUOTED_CHARS].rsplit(" ", 1)[0] + " …"
