"""Errors a user can act on. Each names the file and the reason in one line."""

from __future__ import annotations


class TranscribeError(Exception):
    """Base class: `str(err)` is the one-line message for the user."""


class AudioError(TranscribeError):
    """The input file cannot be used (not audio, empty, corrupt, too long, unsupported layout, no speech)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[AudioError], tuple[str, str]]:
        # Errors cross process boundaries in batch runs; keep both fields.
        return (AudioError, (self.path, self.reason))


class ModelError(TranscribeError):
    """The speech model cannot be found, assembled or loaded."""


def one_line(exc: BaseException) -> str:
    """'Type: message' of an exception nobody foresaw, folded onto one line and cut to fit an error line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
