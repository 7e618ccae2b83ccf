"""Hot words reach faster-whisper unchanged (the model is a recording stand-in; no audio is decoded by it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.audio_factory import tone, write_wav
from transcribe import TranscribeOptions, Transcriber, transcriber


class _RecordingModel:
    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def transcribe(self, audio: Any, **kwargs: Any) -> tuple[list[Any], None]:
        self.calls.append(kwargs)
        return [], None


def test_hotwords_are_passed_to_whisper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transcriber, "WhisperModel", _RecordingModel)
    monkeypatch.setattr(transcriber, "resolve_model", lambda name, cache_dir=None: name)
    whisper = Transcriber(replace(TranscribeOptions(), vad=False, device="cpu"))
    whisper.transcribe(write_wav(tmp_path / "a.wav", [tone(1, 300, -20)]), hotwords=["银河证券", "投资有风险"])
    assert [call["hotwords"] for call in _RecordingModel.calls] == ["银河证券 投资有风险"]
    assert _RecordingModel.calls[0]["language"] == "zh"
