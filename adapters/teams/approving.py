"""Reviewers save a reply as an approved answer in Teams: the case card's "Save as approved
answer" button shows a form (an ``Action.ShowCard``) with the question, the text and the
clauses to edit, and its "Approve" button (``{"action": "approve", "case_id": ...}``) saves
it through the core (:meth:`bot.assistant.Assistant.approve`).

Whether a card offers the form, who may approve and what is refused are the core's
(:func:`bot.approved.clauses.offers_approval`, its refusals, which the turn's error handler shows);
this module only draws and translates.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from botbuilder.core import TurnContext

from adapters.teams.cards import Card, card, escape, shorten, text
from adapters.teams.sending import send
from bot.approved.clauses import draft_of, offers_approval
from bot.approved.views import (
    CLAUSES_HINT,
    MAX_ANSWER,
    MAX_QUESTION,
    QUESTION_HINT,
    ApprovedView,
    approved_receipt,
    form_intro,
    parse_clause_list,
)
from bot.assistant import Assistant
from bot.case_views import CaseView

APPROVE = "approve"
QUESTION_INPUT, TEXT_INPUT, CLAUSES_INPUT = "approve_question", "approve_text", "approve_clauses"


def approve_action(case: CaseView, limit: int = MAX_ANSWER) -> Card | None:
    """The case card's "Save as approved answer" form, when the core offers it.

    Args:
        case: the case.
        limit: the longest reply the form repeats (a card must fit in a Teams message); a
            longer one is left out rather than cut, so that nothing is approved half-said.
    """
    if not offers_approval(case):
        return None
    draft = draft_of(case)
    if len(draft.text) > limit:
        draft = replace(draft, text="")

    def field(input_id: str, label: str, value: str, limit: int, **options: Any) -> Card:
        return {
            "type": "Input.Text",
            "id": input_id,
            "label": label,
            "value": shorten(value, limit),  # only the question can be longer: cut, marked
            "maxLength": limit,
            **options,
        }

    form = card(
        [
            text(escape(form_intro(case.id)), isSubtle=True),
            field(
                QUESTION_INPUT,
                f"The question it answers. {QUESTION_HINT}",
                draft.question,
                MAX_QUESTION,
            ),
            field(TEXT_INPUT, "The approved answer", draft.text, MAX_ANSWER, isMultiline=True),
            field(
                CLAUSES_INPUT,
                f"The clauses it rests on. {CLAUSES_HINT}",
                draft.clause_list,
                500,
            ),
        ],
        [
            {
                "type": "Action.Submit",
                "title": "Approve",
                "data": {"action": APPROVE, "case_id": case.id},
            }
        ],
    )
    return {"type": "Action.ShowCard", "title": "Save as approved answer", "card": form}


async def approve(
    assistant: Assistant,
    context: TurnContext,
    data: Mapping[str, Any],
    *,
    by: str,
    run: Callable[[Callable[[], ApprovedView]], Awaitable[ApprovedView]],
) -> None:
    """Save the form's answer (the core checks who may) and say so in the conversation."""
    save = functools.partial(
        assistant.approve,
        str(data.get("case_id", "")),
        by=by,
        text=str(data.get(TEXT_INPUT) or ""),
        question=str(data.get(QUESTION_INPUT) or "") or None,
        clauses=parse_clause_list(str(data.get(CLAUSES_INPUT) or "")),
    )
    saved = await run(save)
    await send(context, approved_receipt(saved))
