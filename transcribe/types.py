"""The transcript: what `transcribe` hands to `scoring`. Plain frozen dataclasses, JSON round-trippable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

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
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = tuple(
            Segment(**{**s, "words": tuple(Word(**w) for w in s.get("words", ()))}) for s in data["segments"]
        )
        channels = tuple(
            ChannelInfo(
                **{
                    **c,
                    "speech_spans": tuple(tuple(p) for p in c["speech_spans"]),
                    "tone_spans": tuple(tuple(p) for p in c.get("tone_spans", ())),
                }
            )
            for c in data["channels"]
        )
        return cls(**{**data, "segments": segments, "channels": channels})
