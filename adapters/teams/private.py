"""A personal situation told in a channel or group chat: the answer goes to a personal chat.

The core marks such an answer ``private`` (:mod:`bot.answers.privacy`). Teams has no message only
one member of a conversation sees, so the answer card, with its offer of a person, goes to the
asker's personal chat with the bot: a proactive message, in the chat the bot opens with them
through the connector's create-conversation call when it has none yet
(:meth:`adapters.teams.notifier.TeamsNotifier.send_privately`, which replies to cases use
too). The channel or group chat gets only the neutral :data:`bot.phrases.REPLIED_PRIVATELY`.

When the personal chat cannot be opened (the app is not installed for the person, Teams
refuses), the channel is told to write to the bot directly: the answer itself never
appears there.
"""

from __future__ import annotations

from botbuilder.core import TurnContext

from adapters.teams.cards import answer_message
from adapters.teams.notifier import TeamsNotifier
from bot import phrases
from bot.models import Answer, Question


async def reply_privately(
    context: TurnContext, notifier: TeamsNotifier, question: Question, answer: Answer
) -> None:
    """Send ``answer`` to the asker's personal chat and say so, neutrally, where they asked.

    Args:
        context: the turn in the channel or group chat.
        notifier: opens (or finds) the personal chat and sends in it.
        question: the question, with the asker's conversation reference.
        answer: the core's answer, marked private.
    """
    await notifier.tell_privately(
        context,
        question.conversation,
        answer_message(answer),
        said=phrases.REPLIED_PRIVATELY,
        failed=phrases.PRIVATE_UNREACHABLE,
    )
