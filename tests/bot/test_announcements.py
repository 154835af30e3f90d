"""Policy-change announcements: the preview, admins only, the direct messages once per
person and change (across a restart mid-send and several instances), mute and unmute."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.assistant import Assistant
from bot.audit.contacts import Contact, ContactKeeper
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import AnnouncementError, ConfigError, NotAuthorizedError
from bot.knowledge.changes import ChangeSet, ClauseChange, append_log
from bot.models import Answer, Citation, Question
from bot.ports import RecordingNotifier
from bot.storage.models import ContactRow
from tests.bot.conftest import ADMIN, Backend, FakeClock

POLICY = "electronic-communication-and-social-media-policy.md"
CHANNELS = {"SLACK_ANNOUNCE_CHANNEL": "C0ANNOUNCE", "TEAMS_ANNOUNCE_CHANNEL": "19:news@thread"}
PLATFORMS = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "MICROSOFT_APP_ID": "app"}
CHANGED = ClauseChange(
    "changed",
    POLICY,
    "The Policy",
    "4.3",
    "Personal use",
    old="Personal use is limited to no more than 10 minutes a day.",
    new="Personal use is limited to no more than 15 minutes a day.",
)
REMOVED = ClauseChange("removed", POLICY, "The Policy", "9.9", "Pigeons", old="Feed no pigeons.")
ADDED = ClauseChange("added", POLICY, "The Policy", "19.1", "New rule", new="A new rule.")


def open_work(database: Backend, clock: FakeClock, **overrides: object) -> Casework:
    settings = database.settings(extra={**CHANNELS, **PLATFORMS}, **overrides)
    return Casework.open(settings, clock=clock)


@pytest.fixture
def work(database: Backend, clock: FakeClock) -> Iterator[Casework]:
    casework = open_work(database, clock)
    try:
        yield casework
    finally:
        casework.close()


def reload_log(
    work: Casework, *changes: ClauseChange, version: str = "v2", before: str = "v1"
) -> None:
    """A reload at the clock's time, as the index writes it to the change log."""
    work.settings.index_dir.mkdir(parents=True, exist_ok=True)
    at = work.clock().isoformat()
    append_log(work.settings.index_dir, ChangeSet(version, before, at, tuple(changes)))


def asked(work: Casework, user: str, *sections: str, platform: str = "slack") -> None:
    """``user`` asks a question answered from ``sections`` of the policy (audited, and their
    address kept as the assistant keeps it)."""
    question = Question(f"a question of {user}", user, platform, conversation=user)
    citations = tuple(Citation(POLICY, s, "Title", "quote", 0.9) for s in sections)
    answer = Answer(
        question.text, True, "answer", citations, id=f"{user}-{len(sections)}-{work.clock()}"
    )
    work.audit.record(question, answer)
    work.contacts.remember(question)


def test_the_preview_lists_the_changes_and_counts_whom_it_tells(
    work: Casework, clock: FakeClock
) -> None:
    clock.advance(days=-40)
    asked(work, "slack:UOLD", "4.3")  # too long ago
    clock.advance(days=40)
    asked(work, "slack:U1", "4.3", "5.1")  # changed: told
    asked(work, "teams:29:u2", "9.9", platform="teams")  # removed: told
    asked(work, "cli:jo", "4.3", platform="cli")  # cannot be reached
    asked(work, "slack:UMUTE", "4.3")
    work.contacts.mute("slack:UMUTE")
    asked(work, "slack:U5", "5.1")  # an unchanged clause
    clock.advance(hours=1)
    reload_log(work, CHANGED, ADDED, REMOVED)
    clock.advance(hours=1)
    asked(work, "slack:ULATER", "4.3")  # after the change: already answered from it

    preview = work.announcements.preview()

    assert (preview.since, preview.version, preview.channels) == ("v1", "v2", ("slack", "teams"))
    assert "4.3 (Personal use): than 10 minutes → than 15 minutes" in preview.text
    assert "19.1 (New rule) added" in preview.text and "9.9 (Pigeons) removed" in preview.text
    assert preview.audience.to_json() == {
        "messages": 2,
        "people": 2,
        "unreachable": 1,
        "muted": 1,
        "already_told": 0,
    }
    assert "2 direct messages to 2 people" in preview.summary()
    changed, removed = sorted(preview.audience.notices, key=lambda n: n.change.section)
    assert "15 minutes a day" in changed.text and "`/policy mute`" in changed.text
    assert "a question of" not in changed.text  # the question itself is never repeated
    assert "has been removed" in removed.text and "send me `mute`" in removed.text


def test_only_admins_may_preview_or_announce(work: Casework, clock: FakeClock) -> None:
    reload_log(work, CHANGED)
    for attempt in (
        lambda: work.announcements.preview(by="slack:USTAFF"),
        lambda: work.announcements.confirm("slack:USTAFF"),
    ):
        with pytest.raises(NotAuthorizedError, match="only PolicyBot admins can announce"):
            attempt()
    assert work.outbox.pending_count() == 0
    assert work.announcements.preview(by=ADMIN).version == "v2"


def test_an_announcement_posts_once_and_tells_each_person_once(
    work: Casework, clock: FakeClock
) -> None:
    asked(work, "slack:U1", "4.3")
    asked(work, "slack:U1", "4.3")  # twice: still one message for one change
    clock.advance(hours=1)
    reload_log(work, CHANGED)

    done = work.announcements.confirm(ADMIN, version="v2")
    notifier = RecordingNotifier()
    assert work.outbox.flush(notifier).sent == 3

    assert [(c.team, c.text) for c in notifier.of_kind("announce")] == [
        ("slack", done.preview.text),
        ("teams", done.preview.text),
    ]
    (dm,) = notifier.of_kind("message_person")
    assert (dm.team, dm.conversation_ref) == ("slack", "slack:U1")
    with pytest.raises(AnnouncementError, match="announced already"):
        work.announcements.confirm(ADMIN, since="v1")
    assert work.announcements.last_announced() == "v2"
    assert "Nothing to announce" in work.announcements.preview().summary()

    # A later reload, announced from before the first: posted again, nobody told twice.
    clock.advance(hours=1)
    reload_log(work, REMOVED, version="v3", before="v2")
    again = work.announcements.confirm(ADMIN, since="v1")
    assert again.preview.audience.told_before == 1 and again.messages == 0
    notifier = RecordingNotifier()
    work.outbox.flush(notifier)
    assert len(notifier.of_kind("announce")) == 2 and not notifier.of_kind("message_person")


def test_a_preview_overtaken_by_a_reload_is_not_confirmed(work: Casework) -> None:
    reload_log(work, CHANGED)
    reload_log(work, REMOVED, version="v3", before="v2")
    with pytest.raises(AnnouncementError, match="changed again since that preview"):
        work.announcements.confirm(ADMIN, version="v2")
    with pytest.raises(AnnouncementError, match="not in the change log"):
        work.announcements.preview("v9")


def test_muting_stops_messages_already_queued_and_unmuting_restarts_them(
    work: Casework, clock: FakeClock
) -> None:
    asked(work, "slack:U1", "4.3")
    clock.advance(hours=1)
    reload_log(work, CHANGED)
    work.announcements.confirm(ADMIN)
    assert work.contacts.mute("slack:U1") and not work.contacts.mute("slack:U1")

    notifier = RecordingNotifier()
    result = work.outbox.flush(notifier)
    assert (result.sent, result.skipped) == (2, 1) and not notifier.of_kind("message_person")

    assert work.contacts.unmute("slack:U1") and not work.contacts.unmute("slack:U1")
    clock.advance(hours=1)
    reload_log(work, REMOVED, version="v3", before="v2")
    # U1 asked before v3 about 4.3 only: the removal of 9.9 is not theirs.
    assert work.announcements.preview().audience.notices == ()


class _Crash(BaseException):
    """The process dies in the middle of a platform call."""


class _DiesAfter(RecordingNotifier):
    def __init__(self, sends: int) -> None:
        super().__init__()
        self.sends = sends

    def message_person(self, platform: str, address: str, text: str) -> None:
        if len(self.of_kind("message_person")) == self.sends:
            raise _Crash
        super().message_person(platform, address, text)


def test_a_restart_mid_send_finishes_with_nobody_told_twice(
    database: Backend, clock: FakeClock
) -> None:
    first = open_work(database, clock)
    people = [f"slack:U{n}" for n in range(5)]
    for person in people:
        asked(first, person, "4.3")
    clock.advance(hours=1)
    reload_log(first, CHANGED)
    first.announcements.confirm(ADMIN)
    dying = _DiesAfter(sends=2)
    with pytest.raises(_Crash):
        first.outbox.flush(dying)
    first.close()

    clock.advance(minutes=6)  # the dead process's lease on its last message runs out
    second = open_work(database, clock)
    third = open_work(database, clock)  # another instance on the same database
    try:
        with pytest.raises(AnnouncementError):
            third.announcements.confirm(ADMIN, since="v1")
        finishing = RecordingNotifier()
        second.outbox.flush(finishing)
        third.outbox.flush(finishing)
    finally:
        second.close()
        third.close()
    told = [
        c.conversation_ref
        for c in [*dying.delivered, *finishing.delivered]
        if c.kind == "message_person"
    ]
    assert sorted(told) == sorted(people)
    assert len([c for c in [*dying.delivered, *finishing.delivered] if c.kind == "announce"]) == 2


def test_addresses_are_kept_encrypted_and_nobody_is_told_when_notify_days_is_0(
    database: Backend, clock: FakeClock
) -> None:
    work = open_work(database, clock, notify_days=0.0)
    try:
        asked(work, "slack:USECRET", "4.3")
        with work.db.reading() as session:
            (row,) = session.scalars(select(ContactRow)).all()
        assert "USECRET" not in row.address and "USECRET" not in row.person
        assert work.contacts.contact(row.person).address == "slack:USECRET"  # type: ignore[union-attr]
        clock.advance(hours=1)
        reload_log(work, CHANGED)
        assert work.announcements.confirm(ADMIN).messages == 0
        clock.advance(days=1)
        work.purge()  # addresses older than POLICYBOT_NOTIFY_DAYS are forgotten
        assert work.contacts.contact(row.person) is None
    finally:
        work.close()


def test_the_settings_are_read_and_checked() -> None:
    assert Settings.from_env({}).notify_days == 30
    assert Settings.from_env({"POLICYBOT_NOTIFY_DAYS": "7"}).notify_days == 7
    with pytest.raises(ConfigError, match="POLICYBOT_NOTIFY_DAYS must be a number"):
        Settings.from_env({"POLICYBOT_NOTIFY_DAYS": "soon"})
    with pytest.raises(ConfigError, match="SLACK_ANNOUNCE_CHANNEL must be a channel id"):
        Settings.from_env({"SLACK_ANNOUNCE_CHANNEL": "#general"})
    with pytest.raises(ConfigError, match="TEAMS_ANNOUNCE_CHANNEL must be a channel"):
        Settings.from_env({"TEAMS_ANNOUNCE_CHANNEL": "General"})
    assert Settings.from_env(CHANNELS).slack.announce_channel == "C0ANNOUNCE"


def test_only_platforms_switched_on_get_the_post(database: Backend, clock: FakeClock) -> None:
    work = Casework.open(database.settings(extra=CHANNELS), clock=clock)
    try:
        reload_log(work, CHANGED)
        preview = work.announcements.preview()
        assert preview.channels == ()
        assert "No announcement channel is set" in preview.summary()
    finally:
        work.close()


def test_the_assistant_finishes_after_a_restart_mid_send(
    real_bot: PolicyBot, database: Backend, clock: FakeClock
) -> None:
    """Staff ask through the Assistant (which keeps their addresses), an admin announces, the
    process dies after two messages; a new Assistant on the database sends the rest, once."""
    first = Assistant(real_bot, open_work(database, clock))
    people = [f"slack:U{n}" for n in range(4)]
    for user in people:
        first.ask(Question("Can I use Facebook at lunchtime?", user, "slack", user))
    cited = first.work.audit.entries()[0].citations[0]
    clock.advance(hours=1)
    reload_log(first.work, replace(CHANGED, source=cited["source"], section=cited["section"]))
    with pytest.raises(NotAuthorizedError):
        first.announce("slack:U0")
    assert first.announce(ADMIN).messages == 4
    dying = _DiesAfter(sends=2)
    with pytest.raises(_Crash):
        first.deliver(dying)
    first.close()

    clock.advance(minutes=6)
    second = Assistant(real_bot, open_work(database, clock))
    try:
        finishing = RecordingNotifier()
        second.deliver(finishing)
        assert second.deliver(RecordingNotifier()).sent == 0
    finally:
        second.close()
    calls = [*dying.delivered, *finishing.delivered]
    told = [c.conversation_ref for c in calls if c.kind == "message_person"]
    assert sorted(told) == people  # each once
    assert sorted(c.team for c in calls if c.kind == "announce") == ["slack", "teams"]


def test_addresses_are_kept_behind_the_answer_and_not_rewritten_within_the_hour(
    work: Casework, clock: FakeClock
) -> None:
    keeper = ContactKeeper(lambda: work.contacts, background=True)
    question = Question("q", "teams:29:x", "teams", '{"conversation": {"id": "a:1"}}')
    keeper.keep(question)
    keeper.keep(Question("q", "cli:jo", "cli"))  # cannot be reached: not kept
    keeper.close()
    person = work.contacts.person("teams:29:x")
    assert work.contacts.contact(person) == Contact(person, "teams", question.conversation)
    assert work.contacts.contact(work.contacts.person("cli:jo")) is None
    clock.advance(minutes=5)
    again = ContactKeeper(lambda: work.contacts, background=False)
    again.keep(question)
    again.keep(question)  # the second within the hour writes nothing
    with work.db.reading() as session:
        (row,) = session.scalars(select(ContactRow)).all()
    assert row.updated_at == clock.now
