"""The transcript: what `transcribe` hands to `scoring`. Plain frozen dataclasses, JSON round-trippable."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

Role = Literal["agent", "client"]
Span = tuple[float, float]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One stretch of one party's speech; `start`/`end` come from word timings, not Whisper's coarse bounds."""

    role: Role
    channel: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class ChannelInfo:
    """What the audio of one channel says, independent of any words: who, when speaking, how loud, when it ends."""

    channel: int
    role: Role
    speech_spans: tuple[Span, ...]
    audio_end: float
    rms_dbfs: float
    peak_dbfs: float
    # Spans where a call-progress tone (busy / disconnect, e.g. China's 450 Hz 0.35 s on/off) is heard.
    tone_spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Transcript:
    source: str
    duration: float
    sample_rate: int
    channel_count: int
    segments: tuple[Segment, ...]
    channels: tuple[ChannelInfo, ...]
    roles_confident: bool
    language: str = "zh"
    dropped: dict[str, int] = field(default_factory=dict)

    def by_role(self, role: Role) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.role == role)

    def channel_for(self, role: Role) -> ChannelInfo | None:
        return next((c for c in self.channels if c.role == role), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Transcript:
        """Parse what `to_dict` wrote (decoded JSON), strictly: a wrong type, an unknown role, a span that is not a
        pair or a number that is not finite raises `TranscriptFormatError` naming the field. Unknown keys are
        ignored, so metadata can ride along on a transcript line."""
        try:
            text = json.dumps(data, allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise TranscriptFormatError("", f"not JSON data ({exc})") from None
        try:
            transcript = _transcript_adapter().validate_json(text, strict=True)
        except ValidationError as exc:
            raise TranscriptFormatError.from_validation(exc) from None
        _check_values(transcript)
        return transcript


class TranscriptFormatError(ValueError):
    """A transcript is not in the shape `Transcript.to_dict` writes. `field` is a dotted path such as
    'segments.0.start' ('' when the whole thing is wrong); `str(err)` is 'field FIELD: problem'."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field {field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem

    @classmethod
    def from_validation(cls, exc: ValidationError) -> TranscriptFormatError:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        if first["type"] == "dataclass_type" and not first["loc"]:
            return cls("", f"a JSON object expected{more}")
        return cls(".".join(map(str, first["loc"])), f"{first['msg']}{more}")


@cache
def _transcript_adapter() -> TypeAdapter[Transcript]:
    # Built on first use: pydantic compiles a validator from the dataclasses above, so they stay the one schema.
    return TypeAdapter(Transcript)


def _check_values(transcript: Transcript) -> None:
    """What types cannot say: times are finite and not negative (JSON readers accept NaN and Infinity, and sorting
    by a NaN silently scrambles a call), spans run forwards, word probabilities are probabilities."""
    _check_time("duration", transcript.duration)
    for i, seg in enumerate(transcript.segments):
        _check_time(f"segments.{i}.start", seg.start)
        _check_time(f"segments.{i}.end", seg.end)
        for j, word in enumerate(seg.words):
            _check_time(f"segments.{i}.words.{j}.start", word.start)
            _check_time(f"segments.{i}.words.{j}.end", word.end)
            if not 0.0 <= word.probability <= 1.0:
                raise TranscriptFormatError(
                    f"segments.{i}.words.{j}.probability", f"{word.probability!r} is not between 0 and 1"
                )
    for i, channel in enumerate(transcript.channels):
        _check_time(f"channels.{i}.audio_end", channel.audio_end)
        for name in ("speech_spans", "tone_spans"):
            for j, (start, end) in enumerate(getattr(channel, name)):
                _check_time(f"channels.{i}.{name}.{j}.0", start)
                _check_time(f"channels.{i}.{name}.{j}.1", end)
                if end < start:
                    raise TranscriptFormatError(f"channels.{i}.{name}.{j}", f"ends ({end}) before it starts ({start})")
        for name in ("rms_dbfs", "peak_dbfs"):
            if not math.isfinite(getattr(channel, name)):
                raise TranscriptFormatError(f"channels.{i}.{name}", "must be a finite number")


def _check_time(field: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise TranscriptFormatError(field, f"{value!r} is not a time (finite seconds, not negative)")
