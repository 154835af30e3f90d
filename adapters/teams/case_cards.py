"""What reviewers see in their team's channel: the case card, and SLA reminders; and what the
asker receives: the team's reply.

Everything is built from a :class:`~bot.case_views.CaseView`, which names nobody on an
anonymous case. Case card buttons are the steps the core offers on the case
(:attr:`bot.case_views.CaseView.actions`) and carry ``{"action": "claim" | "reply" |
"resolve" | "reopen", "case_id": ...}``; the reply text is the ``reply_text`` input. A case
with a reply also offers "Save as approved answer" (:mod:`adapters.teams.approving`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity

from adapters.teams.approving import approve_action
from adapters.teams.cards import Card, card, escape, inputs, message, plain, shorten, text
from bot import phrases
from bot.case_views import CARD_REPLIES, CaseView
from bot.forms import reply_form
from bot.models import TEAM_NAMES, Team

REPLY_INPUT = "reply_text"
STEPS = {"claim": "Claim", "resolve": "Resolve", "reopen": "Reopen"}
LABELS = phrases.CARD_LABELS
STYLES = {"claim": {"style": "positive"}}


CARD_BUDGET = 24_000
"""The most characters a case card may take as JSON: Teams refuses a message over about
28 KB, and the activity around the card takes some too."""
_FITTINGS = ((2000, CARD_REPLIES), (1000, 3), (500, 2), (250, 1), (100, 1))
"""(characters of each text, latest replies shown), tried in turn until the card fits."""
NAME_CHARS = 100


def _who(person: str | None, names: Mapping[str, str]) -> str:
    shown = names.get(person, person) if person else None
    return escape(shorten(shown, NAME_CHARS)) if shown else phrases.NOBODY_YET


def _user_text(value: str, limit: int) -> Card:
    """A person's words on a card: shortened (the case keeps them whole), markdown inert."""
    return text(escape(shorten(value, limit)))


def _submit(title: str, action: str, case_id: str, **options: str) -> Card:
    data = {"action": action, "case_id": case_id}
    return {"type": "Action.Submit", "title": title, "data": data, **options}


def case_card(case: CaseView, names: Mapping[str, str]) -> Card:
    """The card for a case as it is now, with the steps the core offers. Long texts and old
    replies are cut until the card fits in a Teams message (:data:`CARD_BUDGET`)."""
    for limit, replies in _FITTINGS:
        made = _case_card(case, names, limit=limit, replies=replies)
        if len(json.dumps(made)) <= CARD_BUDGET:
            break
    return made


def _case_card(case: CaseView, names: Mapping[str, str], *, limit: int, replies: int) -> Card:
    if case.anonymous:
        asker = phrases.ANONYMOUS_ASKER.capitalize()
    elif case.asker_name:
        asker = escape(shorten(case.asker_name, NAME_CHARS))
    else:
        asker = _who(case.asker, names)
    facts = [
        {"title": LABELS["status"], "value": phrases.STATUS[case.status]},
        {"title": LABELS["asker"], "value": asker},
        {"title": LABELS["claimer"], "value": _who(case.claimer, names)},
        {"title": LABELS["opened"], "value": case.created_at.strftime("%d %b %Y %H:%M UTC")},
    ]
    body: list[Card] = [
        text(f"{case.id} · {TEAM_NAMES[case.team]}", size="Medium", weight="Bolder"),
        {"type": "FactSet", "facts": facts},
        text(LABELS["question"], weight="Bolder"),
        _user_text(case.question, limit),
    ]
    if case.note:
        body += [text(LABELS["note"], weight="Bolder"), _user_text(case.note, limit)]
    if case.answer:
        answer = shorten(case.answer, limit)
        body += [text(LABELS["answer"], weight="Bolder"), text(answer, isSubtle=True)]
    clauses = ", ".join(f"{c.get('section')} {c.get('title')}" for c in case.citations)
    if clauses:
        body.append(text(f"{LABELS['clauses']}: {shorten(clauses, limit)}", isSubtle=True))
    replied = case.replies
    if len(replied) > replies:
        earlier = len(replied) - replies
        body.append(text(phrases.earlier_replies(earlier), isSubtle=True))
    for event in replied[-replies:]:
        said = escape(shorten(event.text, limit))
        body.append(text(phrases.reply_from(_who(event.by, names), said)))
    if case.reply_on_its_way:
        body.append(text(phrases.REPLY_ON_ITS_WAY, isSubtle=True))
    steps, labels = case.actions, dict(STEPS)
    if "reply" in steps:  # the form is on the card, and its button is the step's
        form = reply_form(case)
        body += inputs(form, lambda _key: REPLY_INPUT)
        labels["reply"] = form.submit
    actions = [_submit(labels[step], step, case.id, **STYLES.get(step, {})) for step in steps]
    if (approve := approve_action(case, limit)) is not None:
        actions.append(approve)
    speak = f"Case {case.id} for the {TEAM_NAMES[case.team]}, {case.status}: {case.question}"
    return card(body, actions, speak=shorten(plain(speak), limit))


def case_message(case: CaseView, names: Mapping[str, str]) -> Activity:
    """The case card as a message."""
    summary = f"Case {case.id} ({case.status}): {case.question}"
    return message(case_card(case, names), summary)


def reminder_message(team: Team, cases: Sequence[CaseView], sla_hours: float) -> Activity:
    """An SLA reminder: the team's cases that nobody has claimed in time."""
    lines = [f"{phrases.reminder_heading(team, len(cases), sla_hours)}:"]
    lines += [f"- **{case.id}**: {plain(case.question)[:120]}" for case in cases]
    return MessageFactory.text("\n".join(lines))


def reply_message(case: CaseView, reply: str) -> Activity:
    """A reviewer's reply, as the asker receives it."""
    heading = f"**{phrases.reply_heading(case)}:**"
    activity = MessageFactory.text(f"{heading}\n\n{reply}")
    activity.summary = plain(f"{heading} {reply}")[:300]
    return activity
