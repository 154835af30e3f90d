"""What PolicyBot says to people, worded once for every platform.

Adapters render these plain sentences as Block Kit, Adaptive Cards or terminal text (adding
only their own markup, emoji or mentions), so that staff and reviewers read the same words in
Slack and in Teams. Refusals are worded where they are raised (:mod:`bot.cases.rules`,
:mod:`bot.engine`), and the forms people fill in in :mod:`bot.forms`; these are the rest: the
apology, thanks, receipts and notices, the welcome, button labels, case statuses, a case
card's labels and headings. No adapter words a sentence of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.models import TEAM_NAMES, Answer, Team

if TYPE_CHECKING:  # the case storage (SQLAlchemy) is not needed to word a sentence
    from bot.case_views import CaseView, Status

APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't finish that. "
    "Please try again in a minute."
)
"""The one reply to an unexpected failure: never its details."""
REACH_A_PERSON = (
    "If it can't wait, contact the HR Advisory team or the Communications team directly."
)
FEEDBACK_THANKS = "Thank you for the feedback."
ASK_A_PERSON = "If you need a person, ask the HR Advisory team or the Communications team."
REPLIED_PRIVATELY = "I've replied to you in a private message."
"""All a channel or group chat sees of an answer to someone's own situation: nothing of it."""
PRIVATE_UNREACHABLE = (
    "I'd like to answer you in a private message, but I couldn't open one. "
    "Please send me a direct message and ask again there."
)
"""What a channel sees when the private answer could not be sent: still nothing of it."""
NOT_YOUR_ANSWER = (
    "Sorry, only the person who asked that question can pass it to a team. "
    "Ask me yourself and you can pass your own answer on."
)
"""The refusal for someone pressing an *Ask* button on another person's answer."""

PASSED_ON_PRIVATELY = "I've passed this to a team; details are in our private chat."
"""What a channel or group chat sees of an escalation: nothing about the case or the note."""
PASSED_ON_UNREACHABLE = (
    "I've passed this to a team, but I couldn't reach you in a private chat. "
    "Open a chat with me to hear back."
)
UNKNOWN_BUTTON = "Sorry, I don't recognise that button. Please ask your question again."
"""The reply to a button this version of PolicyBot does not know (an old card, a forged one)."""
PERSON_CAN_HELP = "A person can help: ask the HR Advisory team or the Communications team."
"""Under an answer the documents do not cover."""
IF_IT_CANT_WAIT = "If it can't wait, a person can help:"
"""Before the buttons that pass a failed question to a team."""
REPLY_ON_ITS_WAY = "The reply is on its way to the asker."
"""On a case card while the reply waits to be delivered."""
ANONYMOUS_ASKER = "withheld at the asker's request"
"""Who asked an anonymous case, on a case card."""
NOBODY_YET = "nobody yet"
"""Who has claimed a case nobody has claimed."""
CARD_OUT_OF_DATE = "Updated: earlier cards for this case are out of date."
"""On a case card posted again because the earlier one could not be updated."""
ADD_TO_CASE = "Add a note or stay anonymous"
"""The receipt's button that opens :func:`bot.forms.amend_form`."""
YOU_ASKED = "You asked"
"""Above the question, in a reply to the asker."""
NO_CASES_YET = "You haven't passed a question to a person yet."
NOTHING_WAITING = "Nothing waiting."

FEEDBACK = {True: "Helpful", False: "Not helpful"}
"""The buttons that rate an answer."""

SHARE = "Share in channel"
"""The button under a private answer that shows it to the channel."""
HOW_TO_ASK = "How to ask PolicyBot"
SAVE_APPROVED = "Save as approved answer"
"""The case card's button that opens :func:`bot.forms.approve_form`."""
APPROVED_SAVED = "Approved answer saved"
CONFIRM_ANNOUNCE, CANCEL = "Confirm and announce", "Cancel"
"""The buttons under an announcement's preview; ``CANCEL`` also closes a form unsaved."""
DONE = "Done"
"""What closes a form once it is saved and shows what was done."""

CARD_LABELS = {
    "status": "Status",
    "asker": "Asked by",
    "platform": "Asked in",
    "opened": "Opened",
    "question": "Question",
    "answer": "PolicyBot answered",
    "note": "Note from the asker",
    "clauses": "Clauses cited",
}
"""What a case card calls its parts, on every platform."""
PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams", "cli": "the command line"}
"""Where a case was asked, as a card says it."""

SHORT_NAMES: dict[Team, str] = {"hr": "HR", "communications": "Communications"}
"""A team's name where room is short (a button)."""

STATUS: dict[Status, str] = {
    "open": "Open: waiting for a reviewer",
    "claimed": "Claimed",
    "answered": "Answered",
    "resolved": "Resolved",
    "reopened": "Reopened: waiting for a reviewer",
}


def passed_on(case_id: str, team: Team, *, again: bool = False) -> str:
    """The asker's receipt for an escalation; ``again`` when they had passed it on before."""
    return f"{'Already passed' if again else 'Passed'} to the {TEAM_NAMES[team]} as case {case_id}."


def where_seen(on_a_platform: bool) -> str:
    """Where the team will see a new case: its chat channel, or only the command line."""
    if on_a_platform:
        return "The team sees it in their channel."
    return "No chat platform is set up, so the team sees it with `policybot escalations list`."


def feedback_thanks(helpful: bool) -> str:
    """The thanks for a vote; after "not helpful", the way to a person too."""
    return FEEDBACK_THANKS if helpful else f"{FEEDBACK_THANKS} {ASK_A_PERSON}"


def added_to_case(case: CaseView, *, withheld_now: bool) -> str:
    """The asker's confirmation after adding a note or withholding their name.

    Args:
        case: the case after the change.
        withheld_now: the asker has just asked for their name to be withheld.
    """
    said = f"Thank you: {case.id} is updated."
    team = TEAM_NAMES[case.team]
    if withheld_now and case.announcing:  # the card waited for this choice
        said += f" The {team} will not see your name."
    elif withheld_now:
        said += (
            f" The {team} no longer sees your name on it, but they may have seen it before "
            "you chose this."
        )
    return said


def reply_heading(case: CaseView) -> str:
    """How a reviewer's reply is introduced to the asker."""
    return f"The {TEAM_NAMES[case.team]} replied to your question (case {case.id})"


def reminder_heading(team: Team, count: int, sla_hours: float) -> str:
    """The first line of an SLA reminder to the team."""
    cases = "case" if count == 1 else "cases"
    return f"{count} {cases} for the {TEAM_NAMES[team]} unclaimed for over {sla_hours:g} hours"


def ask_team(team: Team, *, short: bool = False, suggested: bool = False) -> str:
    """The button that passes a question to ``team``: ``Ask HR`` where room is short."""
    if short:
        return f"Ask {SHORT_NAMES[team]}"
    return f"Ask the {TEAM_NAMES[team]}" + (" (suggested)" if suggested else "")


def passed_on_detail(case: CaseView, *, again: bool = False, await_choice: bool = False) -> str:
    """The asker's receipt for an escalation in full: the case and where the reply comes; with
    ``await_choice``, that the team waits for their choice (:func:`bot.forms.amend_form`,
    which also says when their name is withheld)."""
    said = [passed_on(case.id, case.team, again=again)]
    said.append(
        f"Their reply will come to you in a private message. Quote {case.id} if you contact them."
    )
    if await_choice and not case.anonymous:
        said.append(
            "You can add a note for them, or ask them not to see your name: they are shown "
            "the case once you have chosen, or in two minutes."
        )
    return " ".join(said)


def more_cases(count: int) -> str:
    """After a list cut short."""
    return f"and {count} more: `policybot escalations list`"


def card_not_updated(case: CaseView) -> str:
    """A step was taken, but the card that shows the case could not be redrawn."""
    return f"{case.id} is now {case.status}, but I couldn't update its card."


def team_cases_heading(team: Team) -> str:
    return f"{TEAM_NAMES[team]}: cases to handle"


def reloaded(by: str) -> str:
    """The first line of a reload's report in chat; ``by`` as the platform names the admin."""
    return f"Policy documents reloaded by {by}."


@dataclass(frozen=True)
class Welcome:
    """What PolicyBot says when it is installed, or asked for help.

    Attributes:
        title: the greeting.
        intro: what PolicyBot does (neutral markdown).
        ways: how to ask on this platform, one line each (neutral markdown).
        for_admins: what admins can do here.
        examples: questions to try.
    """

    title: str
    intro: str
    ways: tuple[str, ...]
    for_admins: str
    examples: tuple[str, ...]


WELCOME_INTRO = (
    "I answer questions about the Council's **Electronic Communication and Social Media "
    "Policy** and its guidance, quoting the clauses each answer rests on. When you need a "
    "person, I can pass your question to the HR Advisory team or the Communications team, "
    "and their reply comes back to you here."
)
EXAMPLES = ("Can I use Facebook at lunchtime?", "A journalist has phoned me. What should I do?")
_WAYS: dict[str, tuple[str, ...]] = {
    "slack": (
        "Mention me in a channel (`@PolicyBot can I use Facebook at lunchtime?`): I answer in "
        "the thread, and answer follow-ups there too.",
        "Send me a direct message.",
        "`/policy <question>`: only you see the answer, and you can share it in the channel.",
    ),
    "teams": ("Ask me here, or @mention me in a channel or group chat.",),
}
_RELOAD = {"slack": "`/policy reload`", "teams": "`reload`"}


def welcome(platform: str) -> Welcome:
    """The welcome on ``platform`` (``slack`` or ``teams``): the same words, but for how to
    ask there."""
    reload = _RELOAD.get(platform, "`policybot reload`")
    return Welcome(
        title="Hello, I'm PolicyBot",
        intro=WELCOME_INTRO,
        ways=_WAYS.get(platform, ()),
        for_admins=f"Admins: {reload} reloads the policy documents.",
        examples=EXAMPLES,
    )


def under_answer(answer: Answer) -> str:
    """The line under an answer, above its buttons: why the engine suggests a team, or, when
    the documents do not cover the question, that a person can help; "" otherwise."""
    escalation = answer.escalation
    if escalation.suggested and escalation.team:
        return escalation.reason
    if not answer.answered and answer.question.strip():
        return PERSON_CAN_HELP
    return ""


def citations_heading(answered: bool) -> str:
    """Above the clauses an answer quotes: those it rests on, or only the closest ones."""
    return "The clauses this rests on" if answered else "The closest clauses"


def shared_by(who: str) -> str:
    """Above an answer someone showed the channel; ``who`` as the platform names them."""
    return f"{who} shared an answer to:"


def your_note(note: str) -> str:
    return f"Your note: {note}"


def reply_from(who: str, text: str) -> str:
    """One reply on a case card; ``who`` as the platform names the reviewer."""
    return f"Reply from {who}: {text}"


def earlier_replies(count: int) -> str:
    """On a case card that shows only the latest replies."""
    return f"{count} earlier repl{'y' if count == 1 else 'ies'} not shown."


def added_title(case_id: str) -> str:
    """The asker's form once saved."""
    return f"Added to {case_id}"


#: What a second reload is told, from whichever instance it is asked (:mod:`bot.reload.lease`).
RELOAD_RUNNING = "A reload is already running; try again when it has finished."

#: The terminal chat's help, and what it says when a command is typed wrong
#: (``policybot chat``, :mod:`adapters.console`).
CONSOLE_HELP = (
    "Ask a question about the Electronic Communication and Social Media Policy, e.g. "
    "“Can I use Facebook at lunchtime?”. Commands: /escalate hr|communications [note], "
    "/feedback up|down [comment], /help (or help), /quit (or quit, exit)."
)
ESCALATE_USAGE = "Usage: /escalate hr|communications [a note for the team]"
ESCALATE_FIRST = "Ask your question first, then /escalate it."
FEEDBACK_USAGE = "Usage, after an answer: /feedback up|down [comment]"


def unknown_command(command: str) -> str:
    """The terminal chat's answer to a command it does not know."""
    return f"Unknown command {command}. {CONSOLE_HELP}"


def passed_on_here(case_id: str, team: Team, *, again: bool, on_a_platform: bool) -> str:
    """The terminal chat's receipt for an escalation: where the team sees it, and how to
    follow it."""
    return (
        f"{passed_on(case_id, team, again=again)} {where_seen(on_a_platform)} "
        f"Follow it with `policybot escalations show {case_id}`."
    )


YOU_ASKED = "You asked:"
"""Above the question a reply answers, in the asker's message."""
