"""The core's messages (:mod:`bot.messages`): what each says and offers, before any platform
draws it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot import messages, phrases
from bot.case_views import CaseEvent, CaseView, Status
from bot.messages import Buttons, Heading, Person, Plain, Quote, Text
from bot.ops.digest import Digest

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def case(status: Status = "open", number: int = 1) -> CaseView:
    return CaseView(
        id=f"HR-{number:04d}",
        team="hr",
        status=status,
        platform="slack",
        question="Someone keeps abusing me online",
        asker="slack:USTAFF",
        asker_name="Sam Staff",
        anonymous=False,
        answer="",
        citations=(),
        note="",
        claimed_by="slack:UHR1" if status == "claimed" else None,
        created_at=NOW,
        updated_at=NOW,
        events=(),
    )


def test_a_sentence_keeps_a_person_and_someones_words_apart() -> None:
    runs = messages.slots(
        phrases.reply_from(messages.SLOT, messages.SLOT), Person("x:1"), Plain("*hi*")
    )
    assert runs == ("Reply from ", Person("x:1"), ": ", Plain("*hi*"))


def test_a_case_card_offers_the_cores_steps_and_the_reply_form_with_reply() -> None:
    card = messages.case_card(case("open"))
    assert [b.action for b in card.buttons] == ["claim", "reply"]
    claim, reply = card.buttons
    assert claim.style == "primary" and claim.form is None and claim.data == {"case_id": "HR-0001"}
    assert reply.form is not None and reply.form.submit == "Send reply"
    assert card.summary == "HR-0001 for the HR Advisory team: Someone keeps abusing me online"


def test_an_anonymous_askers_card_names_nobody() -> None:
    card = messages.case_card(replace(case(), anonymous=True, asker=None, asker_name=None))
    facts = card.parts[1]
    assert isinstance(facts, messages.Facts)
    asked_by = facts.facts[1]
    assert asked_by.runs == (Plain(phrases.ANONYMOUS_ASKER, em=True),)


def test_a_card_shows_the_latest_replies_it_has_room_for() -> None:
    replies = tuple(
        CaseEvent(at=NOW, by="slack:UHR1", action="replied", text=f"Reply {n}") for n in range(4)
    )
    card = messages.case_card(
        replace(case("claimed"), status="answered", events=replies), replies=2
    )
    said = [p for p in card.parts if isinstance(p, Text) and Person("slack:UHR1") in p.runs]
    assert [p.runs[-1] for p in said] == [Plain("Reply 2"), Plain("Reply 3")]
    assert Text((phrases.earlier_replies(2),), "muted") in card.parts


def test_a_reminder_lists_twenty_cases_and_says_how_many_more() -> None:
    cases = [case(number=n) for n in range(1, 24)]
    reminder = messages.reminder("hr", cases, 4)
    listed = [p for p in reminder.parts if isinstance(p, Quote)]
    assert len(listed) == messages.HOME_CASES
    assert len([p for p in reminder.parts if isinstance(p, Buttons)]) == messages.HOME_CASES
    assert reminder.parts[-1] == Text((phrases.more_cases(3),), "muted")
    bare = messages.reminder("hr", cases, 4, steps=False)
    assert not bare.buttons and bare.summary.startswith("23 cases for the HR Advisory team")


def test_home_lists_ones_own_cases_without_steps_and_the_teams_with() -> None:
    home = messages.home([case()], {"hr": [case("claimed", 2)]}, platform="slack")
    assert [b.data["case_id"] for b in home.buttons] == ["HR-0002", "HR-0002"]
    empty = messages.home([], {"hr": []}, platform="slack")
    shown = [p for p in empty.parts if isinstance(p, Text)]
    assert Text((phrases.NO_CASES_YET,), "muted") in shown
    assert Text((phrases.NOTHING_WAITING,), "muted", "celebrate") in shown


def test_an_admins_home_ends_with_the_insights_digest() -> None:
    digest = Digest(since=NOW, lines=("12 questions.", "3 cases."))
    plain = messages.home([case()], {}, platform="slack")
    home = messages.home([case()], {}, platform="slack", digest=digest)
    assert home.parts == plain.parts + messages.insights(digest).parts
    assert Heading(digest.title) not in plain.parts


def test_the_apology_passes_the_question_on_only_when_there_is_one() -> None:
    assert not messages.apology().buttons
    offered = messages.apology("Can I?").buttons
    assert [b.data["team"] for b in offered] == ["hr", "communications"]
    assert {b.value for b in offered} == {messages.QUESTION_VALUE + "Can I?"}
