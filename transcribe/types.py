"""The transcript: what `transcribe` hands to `scoring`. Plain frozen dataclasses, JSON round-trippable."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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
        """Parse what `to_dict` wrote (decoded JSON), strictly: a wrong type, an unknown role, a number that is not
        finite, a span that runs backwards or past the call's end, segments out of time order or channels and roles
        that contradict `channel_count` raise `TranscriptFormatError` naming the field. Unknown keys are ignored,
        so metadata can ride along on a transcript line."""
        _check_tree(data)
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
        return cls(_field(first["loc"]), f"{first['msg']}{more}")


@cache
def _transcript_adapter() -> TypeAdapter[Transcript]:
    # Built on first use: pydantic compiles a validator from the dataclasses above, so they stay the one schema.
    return TypeAdapter(Transcript)


# A transcript nests 5 deep (transcript > segments > segment > words > word); the rest is room for metadata riding
# along. JSON nested thousands deep would exhaust Python's recursion in every parser after this one.
MAX_DEPTH = 10
# No recording is a week long; a bound keeps arithmetic on times (seconds * sample rate, sums) finite.
MAX_TIME_S = 7 * 24 * 3600.0
# Times are rounded to milliseconds; a span may round 1 ms past a duration rounded on its own.
_ROUNDING_S = 0.001


def _check_tree(data: Any) -> None:
    """What must hold before recursive code walks the data: bounded nesting, and strings that are Unicode text
    (JSON can spell lone surrogates, which no file name, terminal or UTF-8 output can carry)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str) and not _is_text(value):
            raise TranscriptFormatError(_field(path), "not Unicode text (a lone surrogate)")
        if not isinstance(value, dict | list | tuple):
            continue
        if len(path) >= MAX_DEPTH:
            raise TranscriptFormatError(_field(path), f"nested deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and not _is_text(key):
                raise TranscriptFormatError(_field((*path, key)), "not Unicode text (a lone surrogate)")
            stack.append((item, (*path, key)))


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field(loc: Sequence[Any]) -> str:
    """A dotted field path on one line: keys that came from the input are shown escaped when not printable."""
    return ".".join(str(p) if not isinstance(p, str) or p.isprintable() else ascii(p) for p in loc)


def _check_values(transcript: Transcript) -> None:
    """What types cannot say: times are finite, not negative, within the call and spans run forwards (JSON
    readers accept NaN and Infinity, and sorting by a NaN silently scrambles a call); segments are in time order;
    channels and roles agree with `channel_count`; probabilities are probabilities."""
    if not transcript.source.strip():
        raise TranscriptFormatError("source", "empty: the audio file the transcript came from")
    _check_time("duration", transcript.duration)
    if transcript.sample_rate <= 0:
        raise TranscriptFormatError("sample_rate", f"{transcript.sample_rate} is not a sample rate (positive Hz)")
    if transcript.channel_count not in (1, 2):
        raise TranscriptFormatError("channel_count", f"{transcript.channel_count} (1 for mono or 2 for stereo)")
    for key, count in transcript.dropped.items():
        if count < 0:
            raise TranscriptFormatError(_field(("dropped", key)), f"{count} is not a count")
    _check_channels(transcript)
    previous = 0.0
    for i, segment in enumerate(transcript.segments):
        _check_segment(transcript, i, segment)
        if segment.start < previous:
            raise TranscriptFormatError(
                f"segments.{i}.start", f"{segment.start} is before segments.{i - 1} ({previous}): not in time order"
            )
        previous = segment.start


def _check_channels(transcript: Transcript) -> None:
    channels, count = transcript.channels, transcript.channel_count
    if len(channels) != count:
        raise TranscriptFormatError("channels", f"{len(channels)} entries for channel_count {count}: one per channel")
    for i, channel in enumerate(channels):
        if channel.channel != i:
            raise TranscriptFormatError(f"channels.{i}.channel", f"{channel.channel}, expected {i} (channel order)")
        _check_time(f"channels.{i}.audio_end", channel.audio_end)
        _check_within(f"channels.{i}.audio_end", channel.audio_end, transcript.duration)
        for name in ("speech_spans", "tone_spans"):
            for j, (start, end) in enumerate(getattr(channel, name)):
                _check_span(f"channels.{i}.{name}.{j}", start, end, transcript.duration, ("0", "1"))
        for name in ("rms_dbfs", "peak_dbfs"):
            if not math.isfinite(getattr(channel, name)):
                raise TranscriptFormatError(f"channels.{i}.{name}", "must be a finite number")
    if count == 2 and channels[0].role == channels[1].role:
        raise TranscriptFormatError(
            "channels.1.role", f"{channels[1].role} on both channels: a stereo call has an agent and a client channel"
        )


def _check_segment(transcript: Transcript, i: int, segment: Segment) -> None:
    where = f"segments.{i}"
    _check_span(where, segment.start, segment.end, transcript.duration)
    if not 0 <= segment.channel < transcript.channel_count:
        raise TranscriptFormatError(
            f"{where}.channel", f"{segment.channel} on a call with channel_count {transcript.channel_count}"
        )
    owner = transcript.channels[segment.channel].role
    if transcript.channel_count == 2 and segment.role != owner:
        raise TranscriptFormatError(
            f"{where}.role", f"{segment.role} on channel {segment.channel}, the {owner}'s (channels.{segment.channel})"
        )
    if not math.isfinite(segment.avg_logprob):
        raise TranscriptFormatError(f"{where}.avg_logprob", "must be a finite number")
    _check_probability(f"{where}.no_speech_prob", segment.no_speech_prob)
    for j, word in enumerate(segment.words):
        _check_span(f"{where}.words.{j}", word.start, word.end, transcript.duration)
        _check_probability(f"{where}.words.{j}.probability", word.probability)


def _check_span(
    where: str, start: float, end: float, duration: float, names: tuple[str, str] = ("start", "end")
) -> None:
    _check_time(f"{where}.{names[0]}", start)
    _check_time(f"{where}.{names[1]}", end)
    if end < start:
        raise TranscriptFormatError(where, f"ends ({end}) before it starts ({start})")
    _check_within(f"{where}.{names[1]}", end, duration)


def _check_within(field: str, value: float, duration: float) -> None:
    if value > duration + _ROUNDING_S:
        raise TranscriptFormatError(field, f"{value} is past the end of the call (duration {duration})")


def _check_probability(field: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise TranscriptFormatError(field, f"{value!r} is not between 0 and 1")


def _check_time(field: str, value: float) -> None:
    if not (math.isfinite(value) and 0 <= value <= MAX_TIME_S):
        raise TranscriptFormatError(field, f"{value!r} is not a time (finite seconds, 0 to {MAX_TIME_S:.0f})")
