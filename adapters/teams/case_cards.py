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
from bot import cards, phrases
from bot.case_views import CARD_REPLIES, CaseView
from bot.models import Team

REPLY_INPUT = "reply_text"
LABELS = phrases.CARD_LABELS


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
    view = cards.case_card(case)
    facts = [{"title": f.label, "value": _fact(f, names)} for f in view.fields]
    body: list[Card] = [
        text(view.title, size="Medium", weight="Bolder"),
        {"type": "FactSet", "facts": facts},
        text(LABELS["question"], weight="Bolder"),
        _user_text(view.question, limit),
    ]
    if view.note:
        body += [text(LABELS["note"], weight="Bolder"), _user_text(view.note, limit)]
    if view.answer:
        answer = shorten(view.answer, limit)
        body += [text(LABELS["answer"], weight="Bolder"), text(answer, isSubtle=True)]
    if view.clauses:
        clauses = escape(shorten(", ".join(view.clauses), limit))
        body.append(text(f"{LABELS['clauses']}: {clauses}", isSubtle=True))
    earlier, shown = view.latest(replies)
    if earlier:
        body.append(text(phrases.earlier_replies(earlier), isSubtle=True))
    for event in shown:
        said = escape(shorten(event.text, limit))
        body.append(text(phrases.reply_from(_who(event.by, names), said)))
    if view.on_its_way:
        body.append(text(view.on_its_way, isSubtle=True))
    actions: list[Card] = []
    for button in view.buttons:
        title = button.title
        if button.step == "reply" and view.reply_form is not None:
            # the form is on the card, and its button is the step's
            body += inputs(view.reply_form, lambda _key: REPLY_INPUT)
            title = view.reply_form.submit
        style = {"style": "positive"} if button.primary else {}
        actions.append(_submit(title, button.step, button.value, **style))
    if view.approve and (approve := approve_action(case, limit)) is not None:
        actions.append(approve)
    return card(body, actions, speak=shorten(plain(view.summary), limit))


def _fact(field: cards.CardField, names: Mapping[str, str]) -> str:
    if field.when is not None:
        return field.when.strftime("%d %b %Y %H:%M UTC")
    shown = [escape(field.words)] if field.words else []
    if (person := field.person) is not None:
        named = escape(shorten(person.words, NAME_CHARS)) if person.words else None
        shown.append(named or _who(person.id, names))
    return " · ".join(shown)


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
