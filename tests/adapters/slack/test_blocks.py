"""Rendering: mrkdwn from the core's markdown, Block Kit limits, and the one error handler."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.blocks import MAX_BLOCKS, render
from adapters.slack.mrkdwn import from_slack, split, to_mrkdwn
from adapters.slack.refs import ConversationRef, who
from bot import messages
from bot.case_views import CaseView
from bot.errors import IndexNotBuiltError
from bot.models import Answer, Citation, Escalation, Question
from tests.adapters.slack.conftest import HR_CHANNEL, STAFF, Slack
from tests.adapters.slack.test_escalation import elements


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**Yes**, in your *own* time.", "*Yes*, in your _own_ time."),
        ("- one\n- two\n  * nested", "• one\n• two\n  • nested"),
        ("## Heading", "*Heading*"),
        (
            "See [the intranet](https://intranet.example/policy?a=1&b=2).",
            "See <https://intranet.example/policy?a=1&amp;b=2|the intranet>.",
        ),
        ("Use <b> & > carefully", "Use &lt;b&gt; &amp; &gt; carefully"),
        ("2 * 3 * 4", "2 * 3 * 4"),
    ],
)
def test_markdown_becomes_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_slack_markup_becomes_the_question() -> None:
    text = "<@UBOT> can I share <https://x.example|this link> in <#C1|general> &amp; tag <@U2>?"
    assert from_slack(text, bot_user_id="UBOT") == ("can I share this link in #general & tag @U2?")


def test_long_text_is_split_at_natural_places() -> None:
    text = ("A sentence of the policy. " * 40 + "\n\n") * 10
    pieces = split(text, 3000)
    assert all(len(p) <= 3000 for p in pieces) and len(pieces) > 3
    assert all(p.endswith(".") for p in pieces)
    assert split("x" * 7000, 3000) == ["x" * 3000, "x" * 3000, "x" * 1000]


def test_conversation_references_round_trip() -> None:
    ref = ConversationRef("U1", "C2", "1.5")
    assert ref.encode() == 'slack:{"channel":"C2","thread_ts":"1.5","user":"U1"}'
    assert ConversationRef.decode(ref.encode()) == ref and ref.in_channel_thread
    assert ConversationRef.decode("slack:U9") == ConversationRef("U9")
    assert not ConversationRef("U1", "D1", "1.5").in_channel_thread  # a DM is the DM
    with pytest.raises(ValueError):
        ConversationRef.decode("teams:29:abc")


def very_long_answer(question: Question) -> Answer:
    paragraph = "**Clause** text that goes on and on about social media and the Council. " * 30
    quote = "A very long quoted clause. " * 300
    return Answer(
        question=question.text,
        answered=True,
        text="\n\n".join([paragraph] * 120),  # about 270,000 characters
        citations=tuple(
            Citation("policy.md", f"{n}.1", f"Title {n} " * 30, quote, 0.1, "The Policy")
            for n in range(60)
        ),
        escalation=Escalation(True, "hr", "A reason. " * 500),
        notices=("A notice. " * 400,) * 12,
        id="abcd1234",
    )


def check_limits(text: str, blocks: list[dict[str, Any]]) -> None:
    """Slack's limits: 50 blocks, 3,000 characters of text, 75 a button label, 2,000 a value."""
    assert 0 < len(blocks) <= MAX_BLOCKS and len(text) <= 3000
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
        if block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75 and len(element["value"]) <= 2000


def test_a_very_long_answer_fits_block_kit() -> None:
    text, blocks = render(messages.answer(very_long_answer(Question("q")), share=True))
    check_limits(text, blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[0].startswith("*Clause*")
    answer_sections = [s for s in sections if s.startswith("*Clause*")]
    assert answer_sections[-1].endswith("…")  # cut, and says so
    assert [e["action_id"] for e in blocks[-2]["elements"]] == [
        "escalate_hr",  # suggested: first
        "feedback_up",
        "feedback_down",
        "escalate_communications",
    ]
    assert blocks[-1]["elements"][0]["action_id"] == "share_answer"


async def test_a_very_long_answer_reaches_slack_within_limits(slack: Slack) -> None:
    slack.engine.script = very_long_answer
    await slack.mention("Tell me everything")
    (posted,) = await slack.fake.wait_for("chat.postMessage")
    check_limits(posted.args["text"], posted.blocks)


async def test_a_failure_is_logged_and_answered_politely_with_a_way_to_a_person(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(question: Question) -> Answer:
        raise RuntimeError("database password=hunter2 at /srv/policybot/secret.py")

    slack.engine.script = broken
    ts = await slack.mention("Can I use Facebook at lunchtime?")
    (apology,) = await slack.fake.wait_for("chat.postMessage")
    assert apology.args["thread_ts"] == ts
    assert "Sorry, something went wrong on my side" in apology.text
    everything = json.dumps([c.args for c in slack.fake.calls])
    for secret in ("hunter2", "Traceback", "RuntimeError", "secret.py"):
        assert secret not in everything
    assert "hunter2" in caplog.text  # the log has the details
    await slack.fake.wait_for("reactions.remove")  # 👀 goes even when answering fails

    # The offer works although there is no answer: the question goes to the team.
    value = elements(apology)[0]["value"]
    assert [e["action_id"] for e in elements(apology)] == ["escalate_hr", "escalate_communications"]
    await slack.press("escalate_hr", value, message={"blocks": apology.blocks, "thread_ts": ts})
    await slack.fake.wait_for("response_url")
    await slack.close("HR-0001", user=STAFF)  # the asker's choice releases the card
    await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == HR_CHANNEL)
    case = slack.cases.get("HR-0001")
    assert case.question == "Can I use Facebook at lunchtime?" and case.asker == f"slack:{STAFF}"


async def test_a_safe_core_error_is_shown_as_it_is(slack: Slack) -> None:
    def not_built(question: Question) -> Answer:
        raise IndexNotBuiltError("No index yet: an admin must run `policybot reload`.")

    slack.engine.script = not_built
    await slack.command("anything")
    (told,) = await slack.fake.wait_for("response_url")
    assert told.args["response_type"] == "ephemeral"
    assert "No index yet: an admin must run `policybot reload`." in told.text


async def test_a_failing_button_is_answered_privately(slack: Slack) -> None:
    await slack.press("feedback_up", "")  # no answer id: the core refuses (ValueError)
    message = {"blocks": [], "ts": "1.1"}
    await slack.press("share_answer", "unknown1", message=message)
    (told,) = await slack.fake.wait_for("response_url")
    assert "I no longer have that answer to hand" in told.text
    (dm,) = await slack.fake.wait_for("chat.postMessage")  # from App Home: a DM
    assert dm.args["channel"] == STAFF and "Sorry, something went wrong" in dm.text


EVIL_NAME = "<!channel> <https://evil.example|Verify> & *you*"


def teams_case(**changes: Any) -> CaseView:
    now = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    case = CaseView(
        id="HR-0007",
        team="hr",
        status="claimed",
        platform="teams",
        question="<!here> Is <@U999> allowed?",
        asker="teams:29:abc",
        asker_name=EVIL_NAME,
        anonymous=False,
        answer="",
        citations=(),
        note="see <https://evil.example|this>",
        claimed_by="teams:<!channel>",
        created_at=now,
        updated_at=now,
        events=(),
    )
    return replace(case, **changes)


def test_names_and_texts_from_other_platforms_cannot_inject_markup() -> None:
    text, blocks = render(messages.case_card(teams_case()))
    everything = json.dumps(blocks) + text
    for markup in ("<!channel>", "<!here>", "<https://evil", "<@U999>", "<teams"):
        assert markup not in everything
    fields = {f["text"].split("\n")[0]: f["text"] for f in blocks[1]["fields"]}
    assert fields["*Asked by*"] == (  # as on Teams' card (bot.phrases.CARD_LABELS)
        "*Asked by*\n&lt;!channel&gt; &lt;https://evil.example|Verify&gt; &amp; *you*"
    )
    assert "&lt;!channel&gt;" in fields["*Status*"]
    assert who("cli:someone", "<b>") == "&lt;b&gt;"
    assert who("slack:U123") == "<@U123>"
    assert who("slack:U1> <!channel") == "slack:U1&gt; &lt;!channel"


def test_long_names_fit_block_kit_fields() -> None:
    _, blocks = render(
        messages.case_card(teams_case(asker_name="&" * 5000, claimed_by="teams:" + "<" * 5000))
    )
    for field in blocks[1]["fields"]:
        assert len(field["text"]) <= 2000
    asker_field = blocks[1]["fields"][1]["text"]
    assert asker_field.endswith("&amp;…")  # cut between entities, never inside one
