"""Every knob of the transcription pipeline, in one place. Read by nothing but `Transcriber`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TranscribeOptions:
    model: str = "base"  # "base" = the bundled Whisper base; else any faster-whisper model name or path
    device: str = "auto"  # auto = CUDA when present, else CPU
    compute_type: str = "auto"  # auto = float16 on CUDA, int8 on CPU
    cpu_threads: int = 0  # 0 = CTranslate2's default
    model_cache_dir: Path | None = None
    agent_channel: int = 0  # stereo recordings: 0 = left is the agent, 1 = right
    language: str = "zh"
    beam_size: int = 5
    # Silero's default 0.5 drops whole client turns on 8 kHz telephone audio; 0.3 keeps them (measured).
    vad_threshold: float = 0.3
    vad: bool = True  # off only to study Whisper on raw audio (e.g. hallucination tests)
    max_duration_s: float = 3 * 3600
    turn_gap_s: float = 0.6  # a pause this long between words starts a new segment (turn)
    initial_prompt: str | None = "以下是普通话的句子。"  # nudges Whisper towards simplified Mandarin
    no_speech_threshold: float = 0.7
    # Whisper re-decodes doubtful windows at rising temperatures; on telephone audio that mostly buys
    # hallucinated tails at several times the cost, which the guards drop anyway.
    temperature: tuple[float, ...] = (0.0,)
    batch_size: int = 8  # CUDA only (BatchedInferencePipeline)

    def text_identity(self) -> dict[str, object]:
        """The options that can change a transcript's text or timing: equal identities give the same transcript
        of the same audio. Threads, cache folder and the duration limit change only speed or refusal."""
        return {
            "model": self.model,
            "device": self.device,  # with compute_type "auto", the device picks int8 or float16
            "compute_type": self.compute_type,
            "agent_channel": self.agent_channel,
            "language": self.language,
            "beam_size": self.beam_size,
            "vad": self.vad,
            "vad_threshold": self.vad_threshold,
            "turn_gap_s": self.turn_gap_s,
            "initial_prompt": self.initial_prompt,
            "no_speech_threshold": self.no_speech_threshold,
            "temperature": list(self.temperature),
            "batch_size": self.batch_size,
        }
