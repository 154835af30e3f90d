"""One entry for every button and form (Assistant.press): what each press does and shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot import phrases
from bot.approved.views import ClauseError
from bot.assistant import Assistant, refused_field
from bot.cases.announcements import CANCELLED
from bot.cases.casework import Casework
from bot.engine import PolicyBot
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Question
from tests.bot.conftest import Backend

QUESTION = "A journalist has just phoned me asking about a Council decision. What should I do?"
HR = "slack:UHR"
PEOPLE = {"hr_reviewers": frozenset({HR}), "admins": frozenset({"cli:admin"})}


def who(user: str) -> Question:
    return Question(text="", user_id=user, platform="slack", conversation=f"slack:{user}")


@pytest.fixture
def assistant(real_bot: PolicyBot, database: Backend) -> Iterator[Assistant]:
    """The façade on each database, with a reviewer and an admin."""
    casework = Casework.open(database.settings(**PEOPLE))
    try:
        yield Assistant(real_bot, casework)
    finally:
        casework.close()


def test_feedback_and_share_are_presses_on_an_answer(assistant: Assistant) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))

    thanks = assistant.press("feedback", answer.id, by=who("slack:U2"), inputs={"helpful": True})
    assert thanks.say == phrases.feedback_thanks(True) and thanks.case is None
    down = assistant.press("feedback", answer.id, by=who("slack:U3"), inputs={"helpful": False})
    assert down.say == phrases.feedback_thanks(False)
    summary = assistant.work.feedback.summary()
    assert (summary.helpful, summary.not_helpful) == (1, 1)
    shared = assistant.press("share", answer.id, by=who("slack:U2"))  # anyone may share
    assert shared.shared is not None and shared.shared.text == answer.text
    assert not shared.say and not shared.deliver


def test_escalating_by_button_holds_the_card_until_the_asker_chooses(
    assistant: Assistant,
) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))

    # No choice sent with the button: the choice comes next, and the card waits for it.
    first = assistant.press("escalate", answer.id, by=who("slack:U1"), inputs={"team": "hr"})
    assert first.escalated is not None and not first.escalated.again and first.deliver
    assert first.escalated.await_choice  # the receipt says the team waits for the choice
    assert not first.private  # pressed where only the asker sees
    assert first.case is not None and first.case.id in assistant.work.outbox.held()
    again = assistant.press("escalate", answer.id, by=who("slack:U1"), inputs={"team": "hr"})
    assert again.escalated is not None and again.escalated.again and not again.deliver
    with pytest.raises(NotAuthorizedError):
        assistant.press("escalate", answer.id, by=who("slack:U2"), inputs={"team": "hr"})

    # The receipt's button opens the asker's form; closing it counts as keeping the name.
    opened = assistant.press("amend", first.case.id, by=who("slack:U1"))
    assert opened.form is not None and opened.close_counts
    assert [field.key for field in opened.form.fields] == ["note", "anonymous"]
    saved = assistant.press(
        "amend", first.case.id, by=who("slack:U1"), inputs={"note": " urgent ", "anonymous": True}
    )
    assert saved.case is not None and (saved.case.note, saved.case.anonymous) == ("urgent", True)
    assert saved.say == phrases.added_to_case(saved.case, withheld_now=True)
    assert saved.title == phrases.added_title(first.case.id)
    # The held card goes out now, as the asker left it: nothing posted to redraw.
    assert saved.deliver and not saved.redraw
    with pytest.raises(EscalationError) as refused:
        assistant.press("amend", first.case.id, by=who("slack:U1"), inputs={"note": "x" * 5000})
    assert refused_field("amend", refused.value) == "note"


def test_a_choice_sent_with_the_button_is_made_at_once(assistant: Assistant) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="teams:U1"))
    chosen = {"team": "communications", "note": "", "anonymous": False}

    in_channel = replace(who("teams:U1"), public=True)
    pressed = assistant.press("escalate", answer.id, by=in_channel, inputs=chosen)
    assert pressed.private  # the receipt names the case: the asker's alone
    assert pressed.escalated is not None and not pressed.escalated.await_choice
    assert pressed.case is not None and pressed.case.id not in assistant.work.outbox.held()
    kept = assistant.press("keep_name", pressed.case.id, by=who("teams:U1"))
    assert kept.deliver and kept.case == assistant.case(pressed.case.id)


def test_a_failed_question_is_escalated_by_its_text(assistant: Assistant) -> None:
    inputs = {"team": "hr", "question": "Why?"}
    pressed = assistant.press("escalate", "", by=who("slack:U1"), inputs=inputs)
    assert pressed.case is not None and (pressed.case.id, pressed.case.question) == (
        "HR-0001",
        "Why?",
    )


def test_case_steps_redraw_the_card_and_reply_opens_its_form_first(
    assistant: Assistant,
) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
    case = assistant.escalate(answer.id, "hr", asker=who("slack:U1")).case

    with pytest.raises(NotAuthorizedError, match="can claim HR-0001"):
        assistant.press("claim", case.id, by=who("slack:U1"))
    with pytest.raises(NotAuthorizedError, match="can reply to HR-0001"):
        assistant.press("reply", case.id, by=who("slack:U1"))  # before the form opens

    form = assistant.press("reply", case.id, by=who(HR))
    assert form.form is not None and form.quote == QUESTION and not form.redraw
    assert assistant.case(case.id).status == "open"  # opening the form changes nothing
    with pytest.raises(EscalationError) as empty:
        assistant.press("reply", case.id, by=who(HR), inputs={"reply": "  "})
    assert refused_field("reply", empty.value) == "reply"

    replied = assistant.press("reply", case.id, by=who(HR), inputs={"reply": "Call me"})
    assert replied.case is not None and replied.case.status == "answered"
    assert replied.redraw and replied.lists_changed and replied.deliver
    resolved = assistant.press("resolve", case.id, by=who(HR))
    assert resolved.case is not None and resolved.case.status == "resolved"


def test_approving_opens_the_form_then_saves(assistant: Assistant) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
    case = assistant.escalate(answer.id, "hr", asker=who("slack:U1")).case
    assistant.act(case.id, "reply", by=HR, text="Speak to the press office first.")

    with pytest.raises(NotAuthorizedError):
        assistant.press("approve", case.id, by=who("slack:U1"))
    opened = assistant.press("approve", case.id, by=who(HR))
    assert opened.form is not None
    drafted = {field.key: field.value for field in opened.form.fields}
    assert drafted["text"] == "Speak to the press office first."

    with pytest.raises(ClauseError) as wrong:
        assistant.press("approve", case.id, by=who(HR), inputs={**drafted, "clauses": "Z.99"})
    assert refused_field("approve", wrong.value) == "clauses"
    saved = assistant.press("approve", case.id, by=who(HR), inputs=drafted)
    assert saved.approved is not None and saved.approved.text == drafted["text"]
    assert saved.title == phrases.APPROVED_SAVED and saved.approved.id in saved.say


def test_announcing_is_for_admins_and_cancel_replaces_the_preview(assistant: Assistant) -> None:
    with pytest.raises(NotAuthorizedError):
        assistant.press("announce", by=who("slack:U1"), inputs={"since": "", "version": ""})
    cancelled = assistant.press("cancel", by=who("slack:U1"))
    assert (cancelled.say, cancelled.replace) == (CANCELLED, True)


def test_an_unknown_button_is_answered_not_raised(assistant: Assistant) -> None:
    pressed = assistant.press("delete", "HR-0001", by=who(HR))
    assert pressed.say == phrases.UNKNOWN_BUTTON and pressed.case is None
