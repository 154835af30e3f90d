"""Personal situations stay private: when an answer goes to its asker alone.

Someone who tells their own situation (abuse, a grievance, a health matter, a mistake they
made) in a channel or group chat should not have the conversation go on in front of
colleagues. The router has already judged whether a question is the asker's own situation
(:mod:`bot.answers.routing`, or the language model's route): its judgement is the answer's
escalation suggestion. Such an answer, asked in public, is marked ``private``; adapters then
send it, with its offer of a person, to the asker alone (a Slack direct message, a Teams
personal chat) and tell the public conversation only :data:`bot.phrases.REPLIED_PRIVATELY`.

Admins turn this off with ``POLICYBOT_PRIVATE_SITUATIONS=false``. Direct messages and
personal chats are private already and never change.
"""

from __future__ import annotations

from dataclasses import replace

from bot.models import Answer, Question


def is_personal_situation(answer: Answer) -> bool:
    """The router judged the question to be the asker's own situation, for a team."""
    return answer.escalation.suggested and answer.escalation.team is not None


def answer_privately(question: Question, answer: Answer, *, enabled: bool) -> Answer:
    """``answer``, marked private when it must reach its asker alone (see the module docstring).

    Args:
        question: the question, with where it was asked (``public``).
        answer: the engine's answer.
        enabled: ``Settings.private_situations``.
    """
    private = enabled and question.public and is_personal_situation(answer)
    return replace(answer, private=True) if private else answer
