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
