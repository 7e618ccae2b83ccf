"""callqa's own errors: one hierarchy, each carrying a one-line message a user can act on.

`transcribe` and `scoring` keep their own errors (they import nothing of ours); the outer ring translates them
into these and maps these once to exit codes (`api.cli.output`) and, later, to HTTP statuses.
"""

from __future__ import annotations


class CallqaError(Exception):
    """`str(err)` is the one-line message for the user."""


class BadInput(CallqaError):
    """The user's input is unusable (a file, a line, an argument); other inputs may still be processed."""


class NotFound(CallqaError):
    """What the user named does not exist."""


class ConfigError(CallqaError):
    """Settings, model or phrasebooks are unusable: nothing can be processed until they are fixed."""


class Unauthorized(CallqaError):
    """No credentials, or credentials that are wrong, expired or of a disabled user."""


class Forbidden(CallqaError):
    """The user's role may not do this at all (a call outside the user's scope is `NotFound` instead)."""


class Conflict(CallqaError):
    """The object changed or is held by someone else: reload, or wait."""


class TooLarge(BadInput):
    """An upload passed its size limit."""
