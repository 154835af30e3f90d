"""The modals: a reviewer's reply, and the asker's note-or-anonymity form.

Each carries what its submission needs in ``private_metadata`` (JSON): the case id, and for a
reply opened from a card, where the card is, so that its status can be updated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.slack.blocks import Block, context, section
from adapters.slack.mrkdwn import escape, quote, truncate
from bot import phrases
from bot.case_views import CaseView

View = dict[str, Any]


def reply_modal(case: CaseView, metadata: Mapping[str, str]) -> View:
    return {
        "type": "modal",
        "callback_id": "case_reply",
        "private_metadata": json.dumps(dict(metadata)),
        "title": {"type": "plain_text", "text": f"Reply to {case.id}"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"*Question*\n{quote(truncate(case.question, 2900))}"),
            {
                "type": "input",
                "block_id": "reply",
                "label": {"type": "plain_text", "text": "Your reply to the asker"},
                "hint": {
                    "type": "plain_text",
                    "text": "Sent to the asker by direct message, and in the thread where they "
                    "asked when that was a channel thread (never for anonymous cases).",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


def amend_modal(case: CaseView) -> View:
    """The asker's modal: a note for the team, and withholding their name."""
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": {"type": "plain_text", "text": "A note for the team"},
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": 2000,
            },
        }
    ]
    if case.anonymous:
        blocks.append(context("Your name is already withheld from the team."))
    else:
        option: Block = {
            "text": {"type": "plain_text", "text": "Don't show my name to the team"},
            "value": "anonymous",
        }
        blocks += [
            {
                "type": "input",
                "block_id": "anonymous",
                "optional": True,
                "label": {"type": "plain_text", "text": "Anonymity"},
                "element": {"type": "checkboxes", "action_id": "choice", "options": [option]},
            },
            context(
                "The team is shown the case when you save or cancel this form, or two "
                "minutes after you passed it on, whichever comes first. Choose this before "
                "then and they never see your name. If you choose it later, the case card is "
                "rewritten without your name and no record of the case will show it from now "
                "on, but someone may already have read it."
            ),
        ]
    return {
        "type": "modal",
        "callback_id": "case_amend",
        "private_metadata": json.dumps({"case": case.id}),
        # Closing the form is a choice too (to show one's name): the held card goes out then.
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": f"Add to {case.id}"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def saved_view(case: CaseView, *, withheld_now: bool) -> View:
    """What the asker's modal shows once saved."""
    said = phrases.added_to_case(case, withheld_now=withheld_now)
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": f"Added to {case.id}"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [section(escape(said))],
    }
