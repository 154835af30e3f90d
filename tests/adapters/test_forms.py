"""Slack and Teams show the same forms, cards and welcome, worded once in the core
(:mod:`bot.forms`, :mod:`bot.phrases`): what a modal and an Adaptive Card say is read from
both and compared, so that neither platform can drift from the other."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest

from adapters.slack.blocks import render as slack_render
from adapters.slack.blocks import runs
from adapters.slack.forms import modal, submitted
from adapters.teams.cards import inputs, render
from bot import messages, phrases
from bot.approved.clauses import draft_of
from bot.case_views import CaseEvent
from bot.forms import Form, amend_form, approve_form, reply_form
from bot.models import Answer, Citation, Escalation
from tests.adapters.test_case_actions import NOW, a_case, teams_answer, teams_card


def words(node: Any) -> str:
    """Every string in a Block Kit or Adaptive Card structure, joined."""
    if isinstance(node, dict):
        return " ".join(words(value) for value in node.values())
    if isinstance(node, list):
        return " ".join(words(item) for item in node)
    return node if isinstance(node, str) else ""


def slack_labels(view: dict[str, Any]) -> list[str]:
    """The modal's field labels; a checkbox by the words beside it."""
    labels = []
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        if element["type"] == "checkboxes":
            labels.append(element["options"][0]["text"]["text"])
        else:
            labels.append(block["label"]["text"])
    return labels


def teams_labels(items: list[dict[str, Any]]) -> list[str]:
    """The card's input labels, without what Teams adds (the hint, "(optional)")."""
    return [
        item.get("label") or item["title"] for item in items if item["type"].startswith("Input.")
    ]


def starts(labels: list[str], form: Form) -> bool:
    return len(labels) == len(form.fields) and all(
        label.startswith(field.label) for label, field in zip(labels, form.fields, strict=True)
    )


def test_the_askers_form_asks_the_same_on_both_platforms() -> None:
    case = a_case("open")
    form = amend_form(case, await_choice=False)
    slack = modal(form, "case_amend", {"case": case.id})
    teams_card = render(messages.escalated(case)).attachments[0].content

    assert starts(slack_labels(slack), form)
    assert starts(teams_labels(teams_card["body"]), form)
    assert "Anything to add for the HR Advisory team?" in slack_labels(slack)
    assert "Anything to add for the HR Advisory team? (optional)" in teams_labels(
        teams_card["body"]
    )
    assert {action["title"] for action in teams_card["actions"]} == {"Add to HR-0001"}
    assert slack["title"]["text"] == "Add to HR-0001"


def test_the_form_says_the_team_waits_only_where_it_does() -> None:
    """Slack offers the choice after the question is passed on, and holds the card for it;
    Teams offers it before, so afterwards the team may have seen the name."""
    case = replace(a_case("open"), announcing=True)
    held = amend_form(case, await_choice=True)
    later = amend_form(case, await_choice=False)
    assert held.fields[1].label == "Don't show my name to the team"
    assert "two minutes" in " ".join(held.notes)
    assert later.fields[1].label == "Stop showing my name (they may have seen it already)"
    assert "two minutes" not in " ".join(later.notes)
    assert "someone may already have read it" in " ".join(later.notes)
    # The card has gone out (chosen, or two minutes passed): the form no longer promises.
    posted = amend_form(replace(case, announcing=False), await_choice=True)
    assert (posted.fields, posted.notes) == (later.fields, later.notes)

    anonymous = amend_form(replace(case, anonymous=True), await_choice=True)
    assert [field.key for field in anonymous.fields] == ["note"]
    assert anonymous.notes == ("Your name is already withheld from the team.",)


def test_the_team_form_under_a_teams_answer_is_the_cores() -> None:
    answer = Answer("Q?", True, "A.", (), Escalation(True, "communications", "r"), id="a-1")
    [action] = [
        a
        for a in teams_answer(answer).attachments[0].content["actions"]
        if a["type"] == "Action.ShowCard" and a["card"]["actions"][0]["data"]["team"] != "hr"
    ]
    assert action["title"] == "Ask the Communications team (suggested)"
    shown = action["card"]
    assert [i["id"] for i in shown["body"] if i["type"].startswith("Input.")] == [
        "note_communications",
        "anonymous_communications",
    ]
    assert shown["actions"][0]["title"] == "Send to the Communications team"


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_the_reply_form_is_the_same_and_says_where_the_reply_goes(platform: str) -> None:
    case = replace(a_case("claimed"), platform=platform)
    form = reply_form(case)
    slack = modal(form, "case_reply", {"case": case.id}, quoted=case.question)
    teams = teams_card(case, {})

    [slack_field] = [block for block in slack["blocks"] if block["type"] == "input"]
    [teams_field] = [item for item in teams["body"] if item["type"] == "Input.Text"]
    assert slack_field["label"]["text"] == "Your reply to the asker"
    assert teams_field["label"].startswith("Your reply to the asker.")
    assert slack_field["hint"]["text"] in teams_field["label"]
    in_thread = "channel thread" in slack_field["hint"]["text"]
    assert in_thread == (platform == "slack")  # Teams answers in the personal chat only
    assert case.reply_in_public == in_thread  # and the notifiers are told so
    assert slack["submit"]["text"] == "Send reply"
    assert "Send reply" in [action["title"] for action in teams["actions"]]


def test_the_approval_form_is_the_same_on_both_platforms() -> None:
    reply = CaseEvent(at=NOW, by="slack:UHR1", action="replied", text="Do not reply to them.")
    case = replace(a_case("answered"), events=(reply,))
    form = approve_form(case, draft_of(case))
    slack = modal(form, "case_approve", {"case": case.id})
    [action] = [a for a in teams_card(case, {})["actions"] if a["type"] == "Action.ShowCard"]
    assert action["title"] == slack["title"]["text"] == form.title

    assert starts(slack_labels(slack), form)
    assert starts(teams_labels(action["card"]["body"]), form)
    typed = [b["element"].get("initial_value", "") for b in slack["blocks"] if "element" in b]
    assert "Do not reply to them." in typed
    assert [i.get("value") for i in action["card"]["body"] if i.get("id") == "approve_text"] == [
        "Do not reply to them."
    ]


def test_a_slack_submission_is_read_back_by_field_key() -> None:
    view = {
        "state": {
            "values": {
                "note": {"text": {"type": "plain_text_input", "value": "It was Monday"}},
                "anonymous": {"choice": {"type": "checkboxes", "selected_options": []}},
            }
        }
    }
    assert submitted(view) == {"note": "It was Monday", "anonymous": False}


def test_cards_show_the_claimer_and_a_reply_on_its_way_alike() -> None:
    answered = replace(a_case("answered"), pending_deliveries=1)
    _, slack_blocks = slack_render(messages.case_card(answered))
    teams = teams_card(answered, {"slack:UHR1": "Hana Reviewer"})
    for shown in (words(slack_blocks), words(teams)):
        assert phrases.REPLY_ON_ITS_WAY in shown
    assert "<@UHR1>" in words(slack_blocks) and "Hana Reviewer" in words(teams)

    delivered = replace(answered, pending_deliveries=0)
    assert phrases.REPLY_ON_ITS_WAY not in words(slack_render(messages.case_card(delivered))[1])
    assert phrases.REPLY_ON_ITS_WAY not in words(teams_card(delivered, {}))

    waiting = a_case("reopened")
    assert waiting.claimer is None
    assert "Reopened ·" not in words(slack_render(messages.case_card(waiting))[1])
    assert "Reopened ·" not in words(teams_card(waiting, {}))


def test_an_anonymous_asker_is_described_alike() -> None:
    case = replace(a_case("open"), anonymous=True, asker=None, asker_name=None)
    assert "withheld at the asker's request" in words(slack_render(messages.case_card(case))[1])
    assert "withheld at the asker's request" in words(teams_card(case, {}))
    assert not case.reply_in_public  # a reply never goes to a channel thread


def test_the_welcome_says_the_same_on_both_platforms() -> None:
    card = render(messages.welcome("teams")).attachments[0].content
    teams = words(card["body"])
    slack = runs(messages.how_to_ask("slack").runs)
    for platform, shown in (("slack", slack), ("teams", teams)):
        welcome = phrases.welcome(platform)
        assert "quoting the clauses each answer rests on" in shown
        assert welcome.for_admins in shown
        assert all(way.split("`")[0] in shown for way in welcome.ways)
    assert "/policy reload" in slack and "`reload`" in teams


def test_the_ask_buttons_use_the_cores_team_names() -> None:
    answer = Answer("Q?", False, "I can't find that in the policy.", (), Escalation(), id="a-1")
    _, blocks = slack_render(messages.answer(answer))
    labels = [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert labels[:2] == [phrases.ask_team("hr", short=True), "Ask Communications"]
    assert phrases.PERSON_CAN_HELP in words(blocks)
    card = teams_answer(answer).attachments[0].content
    assert phrases.PERSON_CAN_HELP in words(card["body"])  # the same line under it in Teams
    assert inputs(amend_form(a_case("open"), await_choice=False), str)[0]["id"] == "note"


def test_both_cards_show_the_latest_replies_and_how_many_are_left_out() -> None:
    replies = tuple(
        CaseEvent(at=NOW, by="slack:UHR1", action="replied", text=f"Reply {n}") for n in range(7)
    )
    case = replace(a_case("answered"), events=replies)
    slack, teams = (
        words(slack_render(messages.case_card(case))[1]),
        words(teams_card(case, {"slack:UHR1": "Hana"})),
    )
    assert "2 earlier replies not shown." in slack and "2 earlier replies not shown." in teams
    assert "Reply from <@UHR1>: Reply 6" in slack and "Reply from Hana: Reply 6" in teams
    assert "Reply 1" not in slack and "Reply 1" not in teams


def slack_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """What a reader sees on a Slack card, line by line: mrkdwn marks and mentions made plain
    (``<@UHR1>`` as the name Slack shows), the status mark and the buttons left out."""
    shown = []
    for block in blocks:
        if block["type"] == "actions":
            continue
        parts = [*block.get("fields", []), *block.get("elements", [])]
        for part in [block.get("text"), *parts]:
            if part:
                shown += part["text"].split("\n")
    plain = (re.sub(r"^:[a-z_]+: ", "", line) for line in shown)
    plain = (re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", line) for line in plain)
    plain = (line.replace("<@UHR1>", "Hana").replace("<@USTAFF>", "Sam Staff") for line in plain)
    plain = (re.sub(r"^>\s?", "", line).replace("*", "").replace("_", "") for line in plain)
    return [html.unescape(line) for line in plain if line]


def teams_lines(card: dict[str, Any]) -> list[str]:
    """What a reader sees on a Teams card, line by line (facts as "label" then "value", as
    Slack draws its fields), without the inputs and buttons."""
    shown = []
    for item in card["body"]:
        if item["type"] == "FactSet":
            for fact in item["facts"]:
                shown += [fact["title"], fact["value"]]
        elif item["type"] == "TextBlock":
            shown += item["text"].split("\n")
    return [line.replace("\\", "") for line in shown if line]


def test_the_case_card_reads_the_same_on_both_platforms() -> None:
    """One card (:mod:`bot.cards`) drawn twice: the same words, in the same order, with the
    same buttons. Both say where the case was asked ("Asked in") and label the clauses the
    answer cited ("Clauses cited"); who has the case is on the status line."""
    replies = tuple(
        CaseEvent(at=NOW, by="slack:UHR1", action="replied", text=f"Reply {n}") for n in range(7)
    )
    citation = {"source": "policy.md", "section": "9.1", "title": "Harassment"}
    case = replace(
        a_case("answered"),
        events=replies,
        note="It was Monday",
        citations=(citation,),
        pending_deliveries=1,
    )
    names = {"slack:UHR1": "Hana", "slack:USTAFF": "Sam Staff"}
    slack_text, slack_blocks = slack_render(messages.case_card(case))
    teams = teams_card(case, names)

    assert slack_lines(slack_blocks) == teams_lines(teams)
    shown = teams_lines(teams)
    assert shown[:10] == [
        "HR-0001 · HR Advisory team",
        "Status",
        "Answered · Hana",
        "Asked by",
        "Sam Staff",
        "Asked in",
        "Slack",
        "Opened",
        NOW.strftime("%d %b %Y %H:%M UTC"),
        "Question",
    ]
    assert "Clauses cited: policy.md 9.1 Harassment" in shown
    assert "2 earlier replies not shown." in shown and "Reply from Hana: Reply 6" in shown
    assert shown[-1] == phrases.REPLY_ON_ITS_WAY

    slack_buttons = [
        (e["action_id"], e["text"]["text"], e["value"])
        for b in slack_blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    teams_buttons = [
        (a.get("data", {}).get("action", a["type"]), a["title"], a.get("data", {}).get("case_id"))
        for a in teams["actions"]
    ]
    assert [a for a, _, _ in slack_buttons] == ["case_reply", "case_resolve", "case_approve"]
    # Teams opens the approval form on the card itself (Action.ShowCard).
    assert [a for a, _, _ in teams_buttons] == ["reply", "resolve", "Action.ShowCard"]
    assert {v for _, _, v in slack_buttons + teams_buttons[:2]} == {"HR-0001"}
    # Teams has the reply form on the card, so its Reply button sends the form.
    assert [t for _, t, _ in slack_buttons] == ["Reply", "Resolve", phrases.SAVE_APPROVED]
    assert [t for _, t, _ in teams_buttons][1:] == ["Resolve", phrases.SAVE_APPROVED]
    assert slack_text.startswith("HR-0001 for the HR Advisory team")


def test_an_answer_reads_the_same_on_both_platforms() -> None:
    """One answer message (:func:`bot.cards.answer_card`) drawn twice: the answer, its notice,
    the clauses under their heading (each "document · number title", its quote cut alike), the
    line under it, and the same buttons."""
    quote = "Staff must not post about colleagues. " * 40  # longer than a card quotes
    answer = Answer(
        question="Can I post about a colleague?",
        answered=True,
        text="No: see clause 9.1.",
        citations=(Citation("conduct.md", "9.1", "Social media", quote, 0.9, "Code of Conduct"),),
        escalation=Escalation(True, "hr", "This sounds like a personal matter."),
        notices=("The Code of Conduct changed last week.",),
        id="a-1",
    )
    _, blocks = slack_render(messages.answer(answer))
    teams = teams_answer(answer).attachments[0].content
    teams_shown = [
        line
        for item in teams["body"]
        for text in ([item] if item["type"] == "TextBlock" else item.get("items", []))
        for line in text["text"].split("\n")
    ]

    assert slack_lines(blocks) == teams_shown
    assert teams_shown[:4] == [
        "The Code of Conduct changed last week.",  # above the answer, on both
        "No: see clause 9.1.",
        "The clauses this rests on",
        "Code of Conduct · 9.1 Social media",
    ]
    assert teams_shown[4].endswith("…") and len(teams_shown[4]) <= 700 < len(quote)
    assert teams_shown[-1] == "This sounds like a personal matter."
    # The same offers in the same order; Slack's buttons say less ("Ask HR": Block Kit takes
    # 75 characters), Teams' open the team's form under a longer title.
    slack_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    teams_ids = [
        a["data"]["action"]
        if "data" in a
        else "escalate_" + a["card"]["actions"][0]["data"]["team"]
        for a in teams["actions"]
    ]
    assert [i.split("_")[0] if i.startswith("feedback") else i for i in slack_ids] == teams_ids
    assert teams_ids[0] == "escalate_hr" and "feedback" in teams_ids
