"""PolicyBot's platform-free core: answers, citations, escalation suggestions, reloads.

Adapters (Slack, Teams, the console) hold a :class:`PolicyBot`, turn platform events into
a :class:`Question`, and render the :class:`Answer` they get back.
"""

from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import (
    ConfigError,
    DocumentLoadError,
    EmbedderMismatchError,
    EscalationError,
    IndexNotBuiltError,
    KnowledgeStoreError,
    NotAuthorizedError,
    PolicyBotError,
    ReloadInProgressError,
)
from bot.index import ReloadReport
from bot.models import Answer, Citation, Escalation, Question

__all__ = [
    "Answer",
    "Citation",
    "ConfigError",
    "DocumentLoadError",
    "EmbedderMismatchError",
    "Escalation",
    "EscalationError",
    "IndexNotBuiltError",
    "KnowledgeStoreError",
    "NotAuthorizedError",
    "PolicyBot",
    "PolicyBotError",
    "Question",
    "ReloadInProgressError",
    "ReloadReport",
    "Settings",
]
