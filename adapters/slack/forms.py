"""The core's forms (:mod:`bot.forms`) as Slack modals, and a modal's submission read back.

Each field is an input block whose ``block_id`` is the field's key; a text field is a
``plain_text_input``, a choice a checkbox. What the submission needs besides the fields (the
case id, where the card is) travels in ``private_metadata`` as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.slack.blocks import Block, context, plain, section
from adapters.slack.mrkdwn import escape, quote, truncate
from bot import phrases
from bot.forms import Field, Form

View = dict[str, Any]

#: Block Kit's longest plain-text input, a modal's title and its buttons.
INPUT_LIMIT, TITLE_LIMIT, BUTTON_LIMIT = 3000, 24, 24


def modal(
    form: Form,
    callback_id: str,
    metadata: Mapping[str, str],
    *,
    quoted: str = "",
    notify_on_close: bool = False,
) -> View:
    """``form`` as a modal.

    Args:
        form: the core's form.
        callback_id: what the submission's listener is registered for.
        metadata: what the submission needs, kept in ``private_metadata``.
        quoted: a text shown quoted above the fields (the question a reply answers).
        notify_on_close: Slack tells the app when the modal is closed without saving.
    """
    blocks: list[Block] = []
    if form.intro:
        blocks.append(section(escape(form.intro)))
    if quoted:
        label = phrases.CARD_LABELS["question"]
        blocks.append(section(f"*{label}*\n{quote(truncate(quoted, 2900))}"))
    blocks += [_input(field) for field in form.fields]
    blocks += [context(escape(note)) for note in form.notes]
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(dict(metadata)),
        "title": plain(form.title, TITLE_LIMIT),
        "submit": plain(form.submit, BUTTON_LIMIT),
        "close": plain(phrases.CANCEL, BUTTON_LIMIT),
        "blocks": blocks,
    }
    if notify_on_close:
        view["notify_on_close"] = True
    return view


def done_view(title: str, said: str) -> View:
    """What a modal shows once saved: what the core said, and Done."""
    return {
        "type": "modal",
        "title": plain(title, TITLE_LIMIT),
        "close": plain(phrases.DONE, BUTTON_LIMIT),
        "blocks": [section(escape(said))],
    }


def submitted(view: Mapping[str, Any]) -> dict[str, str | bool]:
    """What a modal's submission holds, by field key: the text typed, or whether a choice is
    ticked. A field left empty or not shown is absent."""
    values: dict[str, str | bool] = {}
    for key, elements in view.get("state", {}).get("values", {}).items():
        for element in elements.values():
            if element.get("type") == "checkboxes":
                values[key] = bool(element.get("selected_options"))
            elif element.get("value"):
                values[key] = str(element["value"])
    return values


def metadata(view: Mapping[str, Any]) -> dict[str, str]:
    """The modal's ``private_metadata``."""
    return dict(json.loads(view["private_metadata"]))


def _input(field: Field) -> Block:
    block: Block = {
        "type": "input",
        "block_id": field.key,
        "label": plain(field.heading or field.label, 2000),
        "element": _element(field),
    }
    if field.optional or field.kind == "choice":
        block["optional"] = True
    if field.hint:
        block["hint"] = plain(field.hint, 2000)
    return block


def _element(field: Field) -> Block:
    if field.kind == "choice":
        option = {"text": plain(field.label, 75), "value": field.key}
        return {"type": "checkboxes", "action_id": "choice", "options": [option]}
    limit = min(field.max_length or INPUT_LIMIT, INPUT_LIMIT)
    element: Block = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": field.kind == "multiline",
        "max_length": limit,
    }
    if field.value:
        element["initial_value"] = truncate(field.value, limit)
    return element
