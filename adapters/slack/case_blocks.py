"""Block Kit for cases: the team's case card, SLA reminders and App Home.

Case buttons carry the case id as their value: ``case_claim``, ``case_reply``,
``case_resolve`` and ``case_reopen`` for reviewers, as the core offers them on the case
(:attr:`bot.case_views.CaseView.actions`), and ``case_approve`` once it has a reply
(``approving``); ``case_amend``, for the asker, is in ``blocks``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.slack.blocks import HELP, Block, Message, actions, button, context, section
from adapters.slack.mrkdwn import escape, escape_fit, quote, to_mrkdwn, truncate
from adapters.slack.refs import who
from bot import phrases
from bot.approved.clauses import offers_approval
from bot.case_views import CARD_REPLIES, CaseView
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


STEPS = {"claim": "Claim", "reply": "Reply", "resolve": "Resolve", "reopen": "Reopen"}
LABELS = phrases.CARD_LABELS
CARD = "card"
"""The block id prefix of the buttons on a case's own card (others are in lists)."""
APPROVE = "case_approve"
"""The card's "Save as approved answer" button (see ``approving``)."""


def case_buttons(case: CaseView, *, on_card: bool = False) -> Block:
    """The steps the core offers on the case now (``case_claim``, ``case_reply``...), Claim
    first; ``on_card`` marks the card's own, whose message shows the case."""
    return actions(
        *(
            button(f"case_{step}", STEPS[step], case.id, "primary" if step == "claim" else None)
            for step in case.actions
        ),
        block_id=f"{CARD if on_card else 'list'}:{case.id}",
    )


def status_line(case: CaseView) -> str:
    line = f"{EMOJI[case.status]} {phrases.STATUS[case.status]}"
    if case.claimer:
        line += f" · {who(case.claimer)}"
    return line


def asker(case: CaseView) -> str:
    if case.anonymous:
        return f"_{phrases.ANONYMOUS_ASKER}_"
    return who(case.asker, case.asker_name)


def case_card(case: CaseView, *, remark: str = "") -> Message:
    """The message in the team's channel: the question, the bot's answer, who asked, buttons."""
    text = f"{case.id} for the {TEAM_NAMES[case.team]}: {escape_fit(case.question, 200)}"
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{case.id} · {TEAM_NAMES[case.team]}"},
        },
        {
            "type": "section",
            "fields": [
                _field(LABELS["status"], status_line(case)),
                _field(LABELS["asker"], asker(case)),
                _field(LABELS["platform"], escape(_platform(case))),
                _field(LABELS["opened"], _when(case)),
            ],
        },
        section(f"*{LABELS['question']}*\n{quote(truncate(case.question, 2900))}"),
    ]
    if case.answer:
        answer = to_mrkdwn(truncate(case.answer, 2900))
        blocks.append(section(f"*{LABELS['answer']}*\n{answer}"))
    cited = [_cited(c) for c in case.citations[:10]]
    if cited:
        blocks.append(context(*cited))
    if case.note:
        blocks.append(section(f"*{LABELS['note']}*\n{quote(truncate(case.note, 2900))}"))
    blocks += _replies(case)
    if case.reply_on_its_way:
        blocks.append(context(escape(phrases.REPLY_ON_ITS_WAY)))
    if remark:
        blocks.append(context(escape(remark)))
    blocks.append(case_buttons(case, on_card=True))
    if offers_approval(case):
        approve = button(APPROVE, phrases.SAVE_APPROVED, case.id)
        blocks.append(actions(approve, block_id=f"approve:{case.id}"))
    return text, blocks


def reminder(team: Team, cases: Sequence[CaseView], sla_hours: float) -> Message:
    """SLA reminder: the team's cases nobody has claimed in time, each with its buttons."""
    text = phrases.reminder_heading(team, len(cases), sla_hours)
    blocks: list[Block] = [section(f":alarm_clock: *{escape(text)}*")]
    for case in cases[:HOME_CASES]:
        blocks += [_summary(case), case_buttons(case)]
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
            blocks += [_summary(case), case_buttons(case)]
        if len(cases) > HOME_CASES:
            blocks.append(context(phrases.more_cases(len(cases) - HOME_CASES)))
    return {"type": "home", "blocks": blocks}


def _summary(case: CaseView, *, mine: bool = False) -> Block:
    by = f"{TEAM_NAMES[case.team]}" if mine else asker(case)
    head = f"*{case.id}* · {by} · {status_line(case)}"
    return section(f"{head}\n{quote(truncate(case.question, 300))}")


def _replies(case: CaseView) -> list[Block]:
    """The latest replies (:data:`bot.case_views.CARD_REPLIES`), after how many are left out."""
    replies, shown = case.replies, case.replies[-CARD_REPLIES:]
    earlier = len(replies) - len(shown)
    left_out = [context(phrases.earlier_replies(earlier))] if earlier else []
    return left_out + [
        section(phrases.reply_from(who(event.by), escape(truncate(event.text, 2800))))
        for event in shown
    ]


def _platform(case: CaseView) -> str:
    return phrases.PLATFORM_NAMES.get(case.platform, case.platform)


def _field(label: str, mrkdwn: str) -> Block:
    """A section field (mrkdwn already escaped), cut to Block Kit's 2,000 characters."""
    return {"type": "mrkdwn", "text": truncate(f"*{label}*\n{mrkdwn}", FIELD_LIMIT)}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, 150)}}


def _when(case: CaseView) -> str:
    stamp = int(case.created_at.timestamp())
    fallback = case.created_at.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def _cited(citation: Mapping[str, Any]) -> str:
    return escape(
        f"{citation.get('source', '')} {citation.get('section', '')} {citation.get('title', '')}"
    )
