"""Every message the bot sends is one core message (:mod:`bot.messages`) drawn by each
platform's one renderer: here each is drawn for Slack and for Teams, and what a reader sees
(the words, line by line, and the buttons) is read back from both and compared."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.schema import Activity

from adapters.slack.blocks import MAX_BLOCKS
from adapters.slack.blocks import render as slack_render
from adapters.teams.cards import render as teams_render
from bot import messages, phrases
from bot.case_views import CaseEvent
from bot.cases.announcements import Preview
from bot.models import Answer, Citation, Escalation
from bot.ops.digest import Digest
from tests.adapters.test_case_actions import NOW, a_case

NAMES = {"slack:UHR1": "Hana", "slack:USTAFF": "Sam Staff"}
MENTIONS = {"<@UHR1>": "Hana", "<@USTAFF>": "Sam Staff"}


def slack_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """What a reader sees in Slack, line by line: marks, mentions and mrkdwn made plain."""
    shown: list[str] = []
    for block in blocks:
        if block["type"] == "actions":
            continue
        for part in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if part:
                shown += part["text"].split("\n")
    lines = []
    for line in shown:
        line = re.sub(r"^:[a-z_]+: ", "", line)
        line = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", line)
        line = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2", line)
        for mention, name in MENTIONS.items():
            line = line.replace(mention, name)
        line = re.sub(r"^>\s?", "", line).replace("```", "")
        line = re.sub(r"(?<!\w)[*_]|[*_](?!\w)", "", line)
        lines.append(html.unescape(re.sub(r"^(\s*)• ", r"\1", line)).strip())
    return [line for line in lines if line]


def teams_lines(activity: Activity) -> list[str]:
    """What a reader sees in Teams, line by line: the card's texts and facts (a fact as its
    label, then its value), or the message's text; markdown made plain."""
    shown: list[str] = []
    if activity.attachments:
        for item in activity.attachments[0].content["body"]:
            if item["type"] == "FactSet":
                for fact in item["facts"]:
                    shown += [fact["title"], *fact["value"].split("\n")]
            elif item["type"] == "TextBlock":
                shown += item["text"].split("\n")
    else:
        shown = activity.text.split("\n")
    lines = []
    for line in shown:
        line = re.sub(r"^>\s?", "", line).replace("**", "")
        line = re.sub(r"(?<!\\)_", "", line)
        line = re.sub(r"\\(.)", r"\1", line)
        lines.append(re.sub(r"^(\s*)- ", r"\1", line).strip())
    return [line for line in lines if line]


def slack_buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(action id, value) of every button."""
    return [
        (e["action_id"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def teams_buttons(activity: Activity) -> list[dict[str, Any]]:
    """What every button sends (a form's button: what its submit sends)."""
    if not activity.attachments:
        return []
    sent = []
    for action in activity.attachments[0].content.get("actions", []):
        if action["type"] == "Action.ShowCard":
            action = action["card"]["actions"][0]
        if action["type"] == "Action.Submit":
            sent.append(action["data"])
    return sent


ANSWER = Answer(
    question="Can I post about a colleague?",
    answered=True,
    text="**No**: see clause 9.1.\n\n- not about colleagues\n- not about residents",
    citations=(Citation("conduct.md", "9.1", "Social media", "Staff must not post.", 0.9, "Code"),),
    escalation=Escalation(True, "hr", "This sounds like a personal matter."),
    notices=("The Code of Conduct changed last week.",),
    id="a-1",
)
REPLIES = tuple(
    CaseEvent(at=NOW, by="slack:UHR1", action="replied", text=f"Reply {n} <b>&") for n in range(7)
)
CASE = replace(
    a_case("answered"),
    events=REPLIES,
    note="It was Monday <script>",
    citations=({"source": "policy.md", "section": "9.1", "title": "Harassment"},),
    pending_deliveries=1,
)
PREVIEW = Preview(since="v1", version="v2", sets=(), channels=("slack",))
DIGEST = Digest(since=datetime(2026, 3, 2, tzinfo=UTC), lines=("12 questions.", "3 cases."))

MESSAGES = {
    "answer": messages.answer(ANSWER),
    "shared answer": messages.answer(ANSWER, shared_by="slack:USTAFF"),
    "apology": messages.apology(),
    "refusal": messages.refusal("Only reviewers of the HR Advisory team can claim HR-0001."),
    "receipt": messages.escalated(CASE, await_choice=True),
    "reloaded": messages.reloaded(messages.Person("slack:UHR1"), "3 documents\n12 clauses"),
    "reply to the asker": messages.reply(CASE, "**Yes**, you may."),
    "case card": messages.case_card(CASE, remark=phrases.CARD_OUT_OF_DATE),
    "anonymous case card": messages.case_card(replace(CASE, anonymous=True, asker=None)),
    "reminder": messages.reminder("hr", [a_case("open"), a_case("reopened")], 4),
    "home": messages.home([a_case("open")], {"hr": [CASE], "communications": []}, platform="x"),
    "digest": messages.insights(DIGEST),
    "preview": messages.preview(PREVIEW),
    "notice": messages.notice("Clause **9.1** changed."),
}


@pytest.mark.parametrize("name", MESSAGES)
def test_every_message_reads_the_same_on_both_platforms(name: str) -> None:
    message = MESSAGES[name]
    text, blocks = slack_render(message)
    teams = teams_render(message, NAMES)

    # Teams draws the asker's form on the receipt, where Slack opens it as a modal.
    on_card = [b.form.notes for b in message.buttons if b.form and b.action == "add_to_case"]
    assert slack_lines(blocks) + [note for notes in on_card for note in notes] == teams_lines(teams)
    assert 0 < len(blocks) <= MAX_BLOCKS and text
    assert teams.summary and len(teams.summary) <= 300


@pytest.mark.parametrize("name", MESSAGES)
def test_every_button_keeps_the_name_its_platform_knows(name: str) -> None:
    """Slack's ``action_id`` and Teams' ``data.action`` are what the buttons on messages
    already sent carry: the same step has the same name on both, as before."""
    message = MESSAGES[name]
    slack = slack_buttons(slack_render(message)[1])
    teams = teams_buttons(teams_render(message, NAMES))
    legacy = {
        "feedback": "feedback_",
        "escalate": "escalate_",
        "add_to_case": "case_amend",
        "share": "share_answer",
        "announce_confirm": "announce_confirm",
        "announce_cancel": "announce_cancel",
    }
    for button, (action_id, value) in zip(message.buttons, slack, strict=True):
        assert action_id.startswith(legacy.get(button.action, f"case_{button.action}"))
        assert value == button.value
    shown = [b for b in message.buttons if b.action != "share"]  # Slack's alone
    assert [data["action"] for data in teams] == [b.action for b in shown]
    for button, data in zip(shown, teams, strict=True):
        assert {key: data[key] for key in button.data} == dict(button.data)


def test_the_case_card_reads_in_order_with_its_steps() -> None:
    shown = teams_lines(teams_render(MESSAGES["case card"], NAMES))
    assert shown[:3] == ["HR-0001 · HR Advisory team", "Status", "Answered · Hana"]
    assert "Reply from Hana: Reply 6 <b>&" in shown and "2 earlier replies not shown." in shown
    assert "Note from the asker" in shown and "It was Monday <script>" in shown
    _, blocks = slack_render(MESSAGES["case card"])
    ids = [b.get("block_id") for b in blocks if b["type"] == "actions"]
    assert ids == ["card:HR-0001", "approve:HR-0001"]


def test_a_teams_reminder_names_the_cases_without_steps() -> None:
    """A Teams button redraws the card it is on, so the reminder lists the cases as text."""
    cases = [a_case("open")]
    teams = teams_render(messages.reminder("hr", cases, 4, steps=False), text=True)
    assert not teams.attachments and "HR-0001" in teams.text
    _, blocks = slack_render(messages.reminder("hr", cases, 4))
    assert [a for a, _ in slack_buttons(blocks)] == ["case_claim", "case_reply"]


def test_the_welcome_offers_questions_to_try_on_both() -> None:
    message = messages.welcome("teams")
    teams = teams_render(message).attachments[0].content
    tried = [a["data"]["msteams"]["value"] for a in teams["actions"]]
    assert tried == list(phrases.EXAMPLES)
    _, blocks = slack_render(messages.welcome("slack"))
    assert not slack_buttons(blocks)  # Slack cannot send words as if typed: shown to copy
    assert all(example in " ".join(slack_lines(blocks)) for example in phrases.EXAMPLES)


def test_the_digest_links_the_full_report_on_both() -> None:
    linked = messages.insights(replace(DIGEST, link="https://bot.example/r/abc"))
    _, blocks = slack_render(linked)
    assert len(blocks) == 2  # App Home keeps within its 100 blocks
    assert (
        "<https://bot.example/r/abc|Open the full report, with charts>" in blocks[1]["text"]["text"]
    )
    teams = teams_render(linked).attachments[0].content
    assert teams["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the full report, with charts",
            "url": "https://bot.example/r/abc",
        }
    ]


def test_someones_words_cannot_become_markup_on_either_platform() -> None:
    evil = replace(CASE, question="<!channel> [Verify](https://evil.example) **now**")
    _, blocks = slack_render(messages.case_card(evil))
    teams = teams_render(messages.case_card(evil), NAMES).attachments[0].content
    slack_text = str(blocks)
    assert "<!channel>" not in slack_text and "&lt;!channel&gt;" in slack_text
    said = r"\<!channel\> \[Verify\]\(https://evil.example\) \*\*now\*\*"
    assert said in [item.get("text") for item in teams["body"]]


def test_a_refusal_names_people_as_each_platform_does() -> None:
    """The core names people by id in a refusal; Slack mentions them, Teams names them, and
    neither lets the rest become markup."""
    refusal = messages.refusal("HR-0001 is claimed by slack:UHR1 <b>")
    text, blocks = slack_render(refusal)
    assert text == blocks[0]["text"]["text"].removeprefix(":no_entry: ")
    assert text == "HR-0001 is claimed by <@UHR1> &lt;b&gt;"
    assert teams_render(refusal, NAMES, text=True).text == r"HR-0001 is claimed by Hana \<b\>"
    # Slack's error handler draws the core's refusal so (tests/adapters/slack/test_reviewing.py).
