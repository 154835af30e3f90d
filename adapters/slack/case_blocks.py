"""Block Kit for cases: the team's case card, SLA reminders and App Home.

Case buttons carry the case id as their value: ``case_claim``, ``case_reply``,
``case_resolve`` and ``case_reopen`` for reviewers, as the core offers them on the case
(:attr:`bot.case_views.CaseView.actions`), and ``case_approve`` once it has a reply
(``approving``); ``case_amend``, for the asker, is in ``blocks``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.slack.blocks import HELP, Block, Message, actions, button, context, section
from adapters.slack.mrkdwn import escape, escape_fit, quote, to_mrkdwn, truncate
from adapters.slack.refs import who
from bot import cards, phrases
from bot.case_views import CaseView
from bot.models import TEAM_NAMES, Team

View = dict[str, Any]

EMOJI = {
    "open": ":large_yellow_circle:",
    "reopened": ":large_yellow_circle:",
    "claimed": ":large_blue_circle:",
    "answered": ":speech_balloon:",
    "resolved": ":white_check_mark:",
}
HOME_CASES = 20
#: Block Kit's limit on a section field's text.
FIELD_LIMIT = 2000
OWN_CASES = 10


LABELS = phrases.CARD_LABELS
CARD = "card"
"""The block id prefix of the buttons on a case's own card (others are in lists)."""
APPROVE = "case_approve"
"""The card's "Save as approved answer" button (see ``approving``)."""


def case_buttons(view: cards.CaseCard, *, on_card: bool = False) -> Block:
    """The steps the core offers on the case now (``case_claim``, ``case_reply``...), Claim
    first; ``on_card`` marks the card's own, whose message shows the case."""
    return actions(
        *(
            button(f"case_{b.step}", b.title, b.value, "primary" if b.primary else None)
            for b in view.buttons
        ),
        block_id=f"{CARD if on_card else 'list'}:{view.case_id}",
    )


def case_card(case: CaseView, *, remark: str = "") -> Message:
    """The message in the team's channel: the core's card (:func:`bot.cards.case_card`) as
    Block Kit, with the notifier's ``remark`` (why the card was not updated) above its buttons."""
    view = cards.case_card(case)
    text = f"{case.id} for the {TEAM_NAMES[case.team]}: {escape_fit(case.question, 200)}"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": view.title}},
        {"type": "section", "fields": [_field(f.label, _text(f)) for f in view.fields]},
        section(f"*{LABELS['question']}*\n{quote(truncate(view.question, 2900))}"),
    ]
    if view.note:
        blocks.append(section(f"*{LABELS['note']}*\n{quote(truncate(view.note, 2900))}"))
    if view.answer:
        answer = to_mrkdwn(truncate(view.answer, 2900))
        blocks.append(section(f"*{LABELS['answer']}*\n{answer}"))
    if view.clauses:
        clauses = escape(truncate(", ".join(view.clauses), 2800))
        blocks.append(context(f"*{LABELS['clauses']}:* {clauses}"))
    if view.earlier:
        blocks.append(context(phrases.earlier_replies(view.earlier)))
    blocks += [
        section(phrases.reply_from(who(event.by), escape(truncate(event.text, 2800))))
        for event in view.replies
    ]
    if view.on_its_way:
        blocks.append(context(escape(view.on_its_way)))
    if remark:
        blocks.append(context(escape(remark)))
    blocks.append(case_buttons(view, on_card=True))
    if view.approve:
        approve = button(APPROVE, view.approve, case.id)
        blocks.append(actions(approve, block_id=f"approve:{case.id}"))
    return text, blocks


def _text(field: cards.CardField) -> str:
    """A field's value as mrkdwn: the status mark, words, a person (``<@U123>``), a moment."""
    if field.when is not None:
        return _when(field.when)
    shown = [escape(field.words)] if field.words else []
    if field.status is not None:
        shown = [f"{EMOJI[field.status]} {' '.join(shown)}"]
    if field.person is not None:
        shown.append(_person(field.person))
    return " · ".join(shown)


def _person(person: cards.Person) -> str:
    if person.id:
        return who(person.id, person.words or None)
    return f"_{escape(person.words)}_"


def reminder(team: Team, cases: Sequence[CaseView], sla_hours: float) -> Message:
    """SLA reminder: the team's cases nobody has claimed in time, each with its buttons."""
    text = phrases.reminder_heading(team, len(cases), sla_hours)
    blocks: list[Block] = [section(f":alarm_clock: *{escape(text)}*")]
    for case in cases[:HOME_CASES]:
        blocks += [_summary(case), case_buttons(cards.case_card(case))]
    if len(cases) > HOME_CASES:
        blocks.append(context(phrases.more_cases(len(cases) - HOME_CASES)))
    return text, blocks


def home_view(own: Sequence[CaseView], teams: Mapping[Team, Sequence[CaseView]]) -> View:
    """App Home: how to ask and one's own cases; for reviewers, their teams' live cases."""
    blocks: list[Block] = [_header("PolicyBot"), section(HELP), _header("Your cases")]
    if not own:
        blocks.append(context(phrases.NO_CASES_YET))
    for case in own[:OWN_CASES]:
        blocks.append(_summary(case, mine=True))
    for team, cases in teams.items():
        blocks.append(_header(phrases.team_cases_heading(team)))
        if not cases:
            blocks.append(context(f"{phrases.NOTHING_WAITING} :tada:"))
        for case in cases[:HOME_CASES]:
            blocks += [_summary(case), case_buttons(cards.case_card(case))]
        if len(cases) > HOME_CASES:
            blocks.append(context(phrases.more_cases(len(cases) - HOME_CASES)))
    return {"type": "home", "blocks": blocks}


def _summary(case: CaseView, *, mine: bool = False) -> Block:
    """A case in a list: its id, who asked (or, for the asker, which team), its status line."""
    status, asked_by = cards.case_card(case).fields[:2]
    by = TEAM_NAMES[case.team] if mine else _text(asked_by)
    head = f"*{case.id}* · {by} · {_text(status)}"
    return section(f"{head}\n{quote(truncate(case.question, 300))}")


def _field(label: str, mrkdwn: str) -> Block:
    """A section field (mrkdwn already escaped), cut to Block Kit's 2,000 characters."""
    return {"type": "mrkdwn", "text": truncate(f"*{label}*\n{mrkdwn}", FIELD_LIMIT)}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, 150)}}


def _when(at: datetime) -> str:
    stamp = int(at.timestamp())
    fallback = at.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"
