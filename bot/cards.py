"""The case card and the answer message, as platform-neutral views: what they say and offer,
decided once, for Slack to draw as Block Kit and Teams as an Adaptive Card.

:func:`case_card` builds a :class:`CaseCard` from a :class:`~bot.case_views.CaseView` (which
names nobody on an anonymous case): its title, its labelled fields in order, the question, the
asker's note, the bot's answer, the clauses it cited, the latest replies, the line that says a
reply is on its way, and the buttons reviewers may press. A renderer only draws it: people as
its platform names them, texts cut to what its platform takes, and each button under the id its
old cards already carry (``case_claim``... in Slack, ``{"action": "claim"}`` in Teams).

:func:`answer_card` does the same for an answer (:class:`AnswerCard`): its text, notices, the
clauses it quotes under their heading, the line under it and the buttons the core offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import phrases
from bot.answers.offers import Offer, answer_offers
from bot.approved.clauses import offers_approval
from bot.case_views import CARD_REPLIES, CaseAction, CaseEvent, CaseView, Status
from bot.forms import Form, reply_form
from bot.models import TEAM_NAMES, Answer, Citation

LABELS = phrases.CARD_LABELS
ANSWER_CLAUSES = 10
"""The most clauses an answer message quotes (Block Kit's 50 blocks leave room for these)."""
QUOTE_CHARS = 700
"""The longest quote of a clause an answer message shows; the clause itself is in the
documents."""
STEPS: dict[CaseAction, str] = {
    "claim": "Claim",
    "reply": "Reply",
    "resolve": "Resolve",
    "reopen": "Reopen",
}
"""What each step's button says."""


@dataclass(frozen=True)
class Person:
    """Someone a card names: by their ``platform:user`` id, which a platform shows its own way,
    or by words (the name given, "withheld at the asker's request")."""

    id: str | None = None
    words: str = ""


@dataclass(frozen=True)
class CardField:
    """One labelled fact at the top of the card: words, a person (after the words, when there
    are both: "Claimed · Hana") or a moment. ``status`` marks the status line, beside which a
    platform may put its own mark."""

    label: str
    words: str = ""
    person: Person | None = None
    when: datetime | None = None
    status: Status | None = None


@dataclass(frozen=True)
class CardButton:
    """A step a reviewer may take: ``step`` is the action (``claim``...), ``value`` the case."""

    step: CaseAction
    title: str
    value: str
    primary: bool = False


@dataclass(frozen=True)
class CaseCard:
    """The team's card for a case, as every platform shows it.

    Attributes:
        case_id: the case.
        title: ``HR-0042 · HR Advisory``.
        summary: one line for notifications and screen readers.
        status: the case's status, for a platform's mark beside the status line.
        fields: the labelled facts, in order: the status line (with who has the case), the
            asker, where they asked, when.
        question: the question as asked, under its label.
        note: what the asker added, if anything.
        answer: what the bot answered, if anything (markdown).
        clauses: the clauses that answer cited, one line each.
        replies: the latest replies (at most :data:`bot.case_views.CARD_REPLIES`), oldest first.
        earlier: how many replies before those are left out.
        on_its_way: the line that says a reply is still being delivered, or "".
        buttons: the steps the core offers, in order.
        reply_form: the reply form, when Reply is offered.
        approve: the "Save as approved answer" button's title, when it is offered.
    """

    case_id: str
    title: str
    summary: str
    status: Status
    fields: tuple[CardField, ...]
    question: str
    note: str
    answer: str
    clauses: tuple[str, ...]
    replies: tuple[CaseEvent, ...]
    earlier: int
    on_its_way: str
    buttons: tuple[CardButton, ...]
    reply_form: Form | None
    approve: str

    def latest(self, count: int) -> tuple[int, tuple[CaseEvent, ...]]:
        """How many replies are left out and the latest ``count`` shown, for a platform that
        shows fewer than the card holds."""
        shown = self.replies[-count:] if count else ()
        return self.earlier + len(self.replies) - len(shown), shown


def case_card(case: CaseView) -> CaseCard:
    """The card for ``case`` as it is now."""
    if case.anonymous:
        asker = Person(words=phrases.ANONYMOUS_ASKER)
    else:
        asker = Person(case.asker, case.asker_name or "")
    claimer = Person(case.claimer) if case.claimer else None
    fields = (
        CardField(LABELS["status"], phrases.STATUS[case.status], claimer, status=case.status),
        CardField(LABELS["asker"], person=asker),
        CardField(LABELS["platform"], phrases.PLATFORM_NAMES.get(case.platform, case.platform)),
        CardField(LABELS["opened"], when=case.created_at),
    )
    shown = case.replies[-CARD_REPLIES:]
    team = TEAM_NAMES[case.team]
    return CaseCard(
        case_id=case.id,
        title=f"{case.id} · {team}",
        summary=f"Case {case.id} for the {team}, {case.status}: {case.question}",
        status=case.status,
        fields=fields,
        question=case.question,
        note=case.note,
        answer=case.answer,
        clauses=tuple(_clause(c) for c in case.citations),
        replies=tuple(shown),
        earlier=len(case.replies) - len(shown),
        on_its_way=phrases.REPLY_ON_ITS_WAY if case.reply_on_its_way else "",
        buttons=tuple(
            CardButton(step, STEPS[step], case.id, primary=step == "claim") for step in case.actions
        ),
        reply_form=reply_form(case) if "reply" in case.actions else None,
        approve=phrases.SAVE_APPROVED if offers_approval(case) else "",
    )


def _clause(citation: Mapping[str, Any]) -> str:
    """``policy.md 9.1 Harassment``: where the clause is, its number and its title."""
    parts = (citation.get("source"), citation.get("section"), citation.get("title"))
    return " ".join(str(part) for part in parts if part)


@dataclass(frozen=True)
class QuotedClause:
    """A clause an answer quotes: ``heading`` is "Code of Conduct · 9.1 Harassment"."""

    heading: str
    quote: str


@dataclass(frozen=True)
class AnswerCard:
    """An answer as every platform shows it.

    Attributes:
        text: the answer (markdown).
        notices: warnings above or beside it (a document changed...).
        clauses_heading: above the clauses: those it rests on, or the closest; "" without any.
        clauses: the clauses quoted, at most :data:`ANSWER_CLAUSES`.
        under: the line under the answer, above its buttons, or "".
        suggested: the line suggests a team (a platform may mark it).
        offers: feedback and escalation buttons, as the core offers them.
    """

    text: str
    notices: tuple[str, ...]
    clauses_heading: str
    clauses: tuple[QuotedClause, ...]
    under: str
    suggested: bool
    offers: tuple[Offer, ...]


def answer_card(answer: Answer) -> AnswerCard:
    """The message for ``answer``."""
    cited = answer.citations[:ANSWER_CLAUSES]
    return AnswerCard(
        text=answer.text,
        notices=tuple(answer.notices),
        clauses_heading=phrases.citations_heading(answer.answered) if cited else "",
        clauses=tuple(QuotedClause(_heading(c), _quote(c)) for c in cited),
        under=phrases.under_answer(answer),
        suggested=answer.escalation.suggested,
        offers=tuple(answer_offers(answer)),
    )


def _heading(citation: Citation) -> str:
    document = citation.document_title or citation.source
    return f"{document} · {citation.section} {citation.title}".strip()


def _quote(citation: Citation) -> str:
    quote = citation.quote.strip()
    return quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"
