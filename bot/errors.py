"""The one error tree of PolicyBot.

::

    PolicyBotError
    ├── ConfigError            a setting is missing or invalid
    ├── DocumentLoadError      a knowledge file cannot be read
    ├── KnowledgeStoreError    the index cannot be built, opened or queried
    │   ├── IndexNotBuiltError no index has been built yet
    │   ├── EmbedderMismatchError the index was built by another embedder
    │   └── ReloadInProgressError another reload holds the lock
    ├── EscalationError        a case action is not possible (unknown id, bad transition)
    ├── AnnouncementError      nothing to announce, or announced already
    └── NotAuthorizedError     the person may not do this

Adapters catch ``PolicyBotError`` in one place; ``safe_message`` tells whether the
message may be shown to staff as it is.
"""

from __future__ import annotations


class PolicyBotError(Exception):
    """Base class. Its message is safe to show staff unless ``safe_message`` is False."""

    safe_message = True


class ConfigError(PolicyBotError):
    """A setting is missing or invalid; the message names the variable. Safe for admins."""


class DocumentLoadError(PolicyBotError):
    """A knowledge file cannot be read; the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class KnowledgeStoreError(PolicyBotError):
    """The index cannot be built, opened or queried. Not shown to staff as it is."""

    safe_message = False


class IndexNotBuiltError(KnowledgeStoreError):
    """No index has been built yet; run ``policybot reload``. Safe for admins."""

    safe_message = True


class EmbedderMismatchError(KnowledgeStoreError):
    """The index was built by a different embedder than the one configured. Safe for admins."""

    safe_message = True


class ReloadInProgressError(KnowledgeStoreError):
    """Another reload is running; try again when it has finished. Safe to show."""

    safe_message = True


class EscalationError(PolicyBotError):
    """A case action is not possible: unknown case, or a transition its status forbids. Safe."""


class NotAuthorizedError(PolicyBotError):
    """The person may not perform this action. Safe to show."""


class AnnouncementError(PolicyBotError):
    """A policy-change announcement is not possible: nothing changed, the documents changed
    since the preview, an unknown version, or announced already. Safe to show."""
