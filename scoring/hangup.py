"""Who hung up first. CTI metadata, when there is any, is authoritative; otherwise the agent-side recording says.

Client first (correct): after the client's last words their channel goes silent and the exchange plays the busy
tone (China: 450 Hz, 0.35 s on / 0.35 s off) while the agent's side is still recorded. Agent first: the recording
stops right after the agent's last words, often cutting the client off mid-word. Weak signs give `uncertain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scoring.phrasebook import HangupInference
from transcribe.types import ChannelInfo, Role, Transcript

HangupParty = Literal["client", "agent", "uncertain"]


@dataclass(frozen=True)
class Hangup:
    by: HangupParty
    confidence: float
    source: Literal["cti", "audio"]
    start: float | None = None  # the time span the evidence comes from
    end: float | None = None
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "confidence": self.confidence, "source": self.source}


def infer_hangup(
    transcript: Transcript, limits: HangupInference, *, cti: Role | None = None, min_confidence: float = 0.6
) -> Hangup:
    """Who hung up first; `limits` are the time thresholds of `scorecard.yaml` (`hangup:`)."""
    if cti is not None:
        return Hangup(cti, 1.0, "cti", evidence=f"CTI metadata: released by the {cti}")
    party, confidence, start, end, evidence = _from_audio(transcript, limits)
    if transcript.channel_count == 1 or not transcript.roles_confident:
        confidence, evidence = round(confidence * 0.6, 2), evidence + " (mono recording: roles are guessed)"
    if confidence < min_confidence:
        party = "uncertain"
    return Hangup(party, confidence, "audio", start, end, evidence)


def _from_audio(
    transcript: Transcript, limits: HangupInference
) -> tuple[HangupParty, float, float | None, float | None, str]:
    duration = transcript.duration
    client, agent = transcript.channel_for("client"), transcript.channel_for("agent")
    client_words, agent_words = _last_words(transcript, "client"), _last_words(transcript, "agent")
    if client is None or agent is None or client is agent:
        return _from_one_channel(transcript, agent or client, limits)
    if client_words is None and agent_words is None:
        return "uncertain", 0.0, None, None, "nobody spoke"
    client_sound = max(client_words or 0.0, client.audio_end)
    agent_sound = max(agent_words or 0.0, agent.audio_end)
    after = client_words if client_words is not None else 0.0
    tones = [t for t in client.tone_spans if t[0] >= after - limits.tone_slack_s]
    if tones:
        return (
            "client",
            0.95,
            after,
            tones[-1][1],
            f"busy tone on the client's channel at {tones[0][0]:.1f}–{tones[-1][1]:.1f} s after the client's "
            f"last words at {after:.1f} s",
        )
    if duration - agent_sound <= limits.recording_stops_s:
        if client_sound >= duration - limits.cut_off_s and client_words is not None:
            return (
                "agent",
                0.9,
                agent_sound,
                duration,
                f"recording stops at {duration:.1f} s, {duration - agent_sound:.2f} s after the agent's last words, "
                "cutting the client off mid-word",
            )
        return (
            "agent",
            0.75,
            agent_sound,
            duration,
            f"recording stops at {duration:.1f} s, {duration - agent_sound:.2f} s after the agent's last words; "
            "no busy tone",
        )
    if client_words is not None and duration - client_sound >= limits.line_dead_s:
        return (
            "client",
            0.7,
            client_sound,
            duration,
            f"client's channel silent from {client_sound:.1f} s while the recording goes on to {duration:.1f} s "
            "(no busy tone heard)",
        )
    return "uncertain", 0.4, None, None, "no busy tone, and the recording does not stop right after the agent"


def _from_one_channel(
    transcript: Transcript, channel: ChannelInfo | None, limits: HangupInference
) -> tuple[HangupParty, float, float | None, float | None, str]:
    last = max((s.end for s in transcript.segments), default=None)
    if channel is None or last is None:
        return "uncertain", 0.0, None, None, "no channel information"
    tones = [t for t in channel.tone_spans if t[0] >= last - limits.tone_slack_s]
    if tones:
        return "client", 0.95, last, tones[-1][1], f"busy tone at {tones[0][0]:.1f}–{tones[-1][1]:.1f} s after the talk"
    return "uncertain", 0.5, None, None, "one channel and no busy tone: who hung up cannot be told"


def _last_words(transcript: Transcript, role: Role) -> float | None:
    return max((s.end for s in transcript.segments if s.role == role), default=None)
