"""Reviewers save a reply as an approved answer in Teams: the case card's "Save as approved
answer" button shows a form (an ``Action.ShowCard``) with the question, the text and the
clauses to edit, and its "Approve" button (``{"action": "approve", "case_id": ...}``) saves
it through the one button path (:mod:`adapters.teams.actions`).

Whether a card offers the form, who may approve and what is refused are the core's
(:func:`bot.approved.clauses.offers_approval`, its refusals, which the turn's error handler shows);
this module only draws and translates.
"""

from __future__ import annotations

from adapters.teams.cards import Card, button_action
from bot import messages
from bot.case_views import CaseView

APPROVE = "approve"
INPUTS = {"question": "approve_question", "text": "approve_text", "clauses": "approve_clauses"}


def approve_action(case: CaseView, limit: int) -> Card | None:
    """The case card's "Save as approved answer" form (:func:`bot.forms.approve_form`), when
    the core offers it; a reply longer than ``limit`` is left out of it rather than cut, so
    that nothing is approved half-said."""
    approve = [b for b in messages.case_card(case).buttons if b.action == APPROVE]
    return button_action(approve[0], [], limit) if approve else None
