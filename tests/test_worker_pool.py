"""The batch pool: one file's failure, of whatever kind, is that file's one line."""

from __future__ import annotations

from pathlib import Path

from transcribe import AudioError
from transcribe.batch import _attempt


class _Broken:
    def transcribe(self, path: Path, hotwords: tuple[str, ...] = ()) -> None:
        raise KeyError("channel\nlayout")


def test_an_unexpected_failure_on_one_file_becomes_its_one_line_error() -> None:
    outcome = _attempt(_Broken(), Path("calls/a.wav"), ())  # type: ignore[arg-type]
    assert isinstance(outcome, AudioError)
    assert str(outcome) == "calls/a.wav: unexpected error, please report it: KeyError: 'channel\\nlayout'"
