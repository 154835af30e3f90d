"""Reviewers save a reply as an approved answer in Teams: the case card's "Save as approved
answer" button shows a form (an ``Action.ShowCard``) with the question, the text and the
clauses to edit, and its "Approve" button (``{"action": "approve", "case_id": ...}``) saves
it through the one button path (:mod:`adapters.teams.actions`).

Whether a card offers the form, who may approve and what is refused are the core's
(:func:`bot.approved.clauses.offers_approval`, its refusals, which the turn's error handler shows);
this module only draws and translates.
"""

from __future__ import annotations

from dataclasses import replace

from adapters.teams.cards import Card, show_card
from bot.approved.clauses import draft_of, offers_approval
from bot.case_views import CaseView
from bot.forms import approve_form

APPROVE = "approve"
INPUTS = {"question": "approve_question", "text": "approve_text", "clauses": "approve_clauses"}


def approve_action(case: CaseView, limit: int) -> Card | None:
    """The case card's "Save as approved answer" form (:func:`bot.forms.approve_form`), when
    the core offers it.

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
    data = {"action": APPROVE, "case_id": case.id}
    return show_card(approve_form(case, draft), data, INPUTS.__getitem__)
