"""The pipeline: file → channels → VAD speech → Whisper (per channel) → turns with word timings → Transcript."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.vad import VadOptions

from transcribe import acoustics, audio, mono_roles
from transcribe.chinese import to_simplified
from transcribe.errors import AudioError, ModelError, one_line
from transcribe.hallucinations import HallucinationGuard, count, repeated_runs
from transcribe.model_files import resolve_model
from transcribe.options import TranscribeOptions
from transcribe.timeline import Interleaved, SpeechChunks, interleave
from transcribe.types import ChannelInfo, Role, Segment, Transcript, Word

# Fine-grained VAD for the speech spans that timing rules read; Whisper gets them padded and merged.
_VAD_MIN_SILENCE_MS = 250
_VAD_PAD_MS = 100
_WHISPER_PAD_S = 0.1
_WHISPER_MERGE_GAP_S = 0.5
_WHISPER_SEPARATOR_S = 0.3
# The batched (GPU) pipeline decodes only the first 30 s of each clip it is given: VAD splits longer speech at
# its quietest point and merging never builds a piece past this.
_MAX_PIECE_S = 28.0
# faster-whisper computes the mel features of all the audio it is given at once (measured peaks: 420 MB for
# 10 minutes, 230 MB for 5): the interleaved stream goes to it in blocks cut between pieces. Up to an hour a
# block holds 10 minutes, so most calls are one block, heard as before; a longer call's int16 PCM already
# holds up to 691 MB, so its blocks are 3 minutes. Each block costs half a 30 s window more on average.
_WHISPER_BLOCK_S = 600.0
_LONG_CALL_S = 3600.0
_LONG_CALL_BLOCK_S = 180.0


@dataclass(frozen=True)
class _RawTurn:
    channel: int
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


class Transcriber:
    """Loads the model once; `transcribe()` may then be called for many files."""

    def __init__(self, options: TranscribeOptions | None = None) -> None:
        self.options = options or TranscribeOptions()
        self.device, self.compute_type = _resolve_device(self.options)
        self._model = _load_model(self.options, self.device, self.compute_type)
        self._batched = BatchedInferencePipeline(self._model) if self.device == "cuda" else None
        self._guard = HallucinationGuard(
            prompt=self.options.initial_prompt, no_speech_threshold=self.options.no_speech_threshold
        )
        self._vad = VadOptions(
            threshold=self.options.vad_threshold,
            min_silence_duration_ms=_VAD_MIN_SILENCE_MS,
            speech_pad_ms=_VAD_PAD_MS,
            max_speech_duration_s=_MAX_PIECE_S,
        )

    def transcribe(self, path: str | Path, hotwords: Sequence[str] = ()) -> Transcript:
        """Transcribe one call. Raises `AudioError` (one-line message naming the file) for unusable input."""
        info = audio.probe(Path(path))
        if info.channel_count not in (1, 2):
            raise AudioError(info.path, f"unsupported channel layout: {info.channel_count} channels (need 1 or 2)")
        limit = self.options.max_duration_s
        audio.check_length(info, limit)
        pcm = audio.decode(info, limit)
        chunks = [acoustics.speech_chunks(pcm[ch], self._vad) for ch in range(pcm.shape[0])]
        if self.options.vad and not any(chunks):
            raise AudioError(info.path, "no speech found (silence or noise only)")
        roles: list[Role] = ["agent", "client"] if self.options.agent_channel == 0 else ["client", "agent"]
        if pcm.shape[0] == 1:
            roles = ["agent"]
        channels = [_channel_info(pcm[ch], ch, roles[ch], chunks[ch]) for ch in range(pcm.shape[0])]
        dropped: list[str] = []
        turns = self._recognise(pcm, chunks, " ".join(hotwords) or None, channels)
        segments = [_to_segment(turn, roles[turn.channel]) for turn in self._kept(turns, dropped)]
        if pcm.shape[0] == 1:
            segments = _assign_mono_roles(pcm[0], segments)
        if not segments and self.options.vad:
            raise AudioError(info.path, "no speech recognised (only noise or hallucinations)")
        return Transcript(
            source=info.path,
            duration=round(pcm.shape[1] / audio.SAMPLE_RATE, 3),
            sample_rate=info.sample_rate,
            channel_count=pcm.shape[0],
            segments=tuple(sorted(segments, key=lambda s: (s.start, s.channel))),
            channels=tuple(channels),
            roles_confident=pcm.shape[0] == 2,
            language=self.options.language,
            dropped=count(dropped),
        )

    def _kept(self, turns: list[_RawTurn], reasons: list[str]) -> list[_RawTurn]:
        """The turns that are not hallucinations; each dropped one adds its reason to `reasons`."""
        looped: set[int] = set()
        for channel in {t.channel for t in turns}:
            mine = [i for i, t in enumerate(turns) if t.channel == channel]
            looped |= {mine[j] for j in repeated_runs([_text(turns[i].words) for i in mine])}
        kept = []
        for i, turn in enumerate(turns):
            text = _text(turn.words)
            reason = (
                "repetition" if i in looped else self._guard.reason_to_drop(text, turn.no_speech_prob, turn.avg_logprob)
            )
            if reason:
                reasons.append(reason)
            else:
                kept.append(turn)
        return kept

    def _recognise(
        self, pcm: np.ndarray, chunks: list[SpeechChunks], hotwords: str | None, channels: list[ChannelInfo]
    ) -> list[_RawTurn]:
        opts = self.options
        kwargs = dict(
            language=opts.language,
            beam_size=opts.beam_size,
            word_timestamps=True,
            condition_on_previous_text=False,  # stops one misheard turn from seeding a repetition loop
            initial_prompt=opts.initial_prompt,
            hotwords=hotwords,
            temperature=opts.temperature,
            vad_filter=False,  # VAD already ran, per channel, below
        )
        if not opts.vad:  # whole channels, silence included: only for studying Whisper itself
            turns: list[_RawTurn] = []
            for ch in range(pcm.shape[0]):
                segments, _ = self._model.transcribe(audio.as_float(pcm[ch]), **kwargs)
                turns += _split_turns(segments, functools.partial(_on_channel, ch), opts.turn_gap_s, channels)
            return turns
        stream = interleave(
            pcm, chunks, audio.SAMPLE_RATE, _WHISPER_PAD_S, _WHISPER_MERGE_GAP_S, _WHISPER_SEPARATOR_S, _MAX_PIECE_S
        )
        turns = []
        long_call = pcm.shape[1] > _LONG_CALL_S * audio.SAMPLE_RATE
        for block in stream.blocks(_LONG_CALL_BLOCK_S if long_call else _WHISPER_BLOCK_S):
            turns += _split_turns(self._decode_block(pcm, block, kwargs), block.locate, opts.turn_gap_s, channels)
        return turns

    def _decode_block(self, pcm: np.ndarray, block: Interleaved, kwargs: dict[str, Any]) -> list[Any]:
        if self._batched is not None:
            clips = [{"start": p.offset / block.rate, "end": (p.offset + p.length) / block.rate} for p in block.pieces]
            segments, _ = self._batched.transcribe(
                block.audio(pcm), clip_timestamps=clips, batch_size=self.options.batch_size, **kwargs
            )
        else:
            segments, _ = self._model.transcribe(block.audio(pcm), **kwargs)
        return list(segments)  # decoded here, while this block's audio is the only one alive


def _on_channel(channel: int, start: float, end: float) -> tuple[int, float, float]:
    """Where a word of a whole-channel decode lies: that channel, at the time Whisper gave it."""
    return channel, start, end


def _resolve_device(options: TranscribeOptions) -> tuple[str, str]:
    device = options.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = options.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def _load_model(options: TranscribeOptions, device: str, compute_type: str) -> WhisperModel:
    _check_compute_type(device, compute_type)
    location = resolve_model(options.model, options.model_cache_dir)
    is_path = _looks_like_path(location)
    if is_path and not Path(location).is_dir():
        raise ModelError(f"speech model directory {location} does not exist")
    try:
        return WhisperModel(location, device=device, compute_type=compute_type, cpu_threads=options.cpu_threads)
    except Exception as exc:  # faster-whisper/huggingface raise many unrelated types for "cannot load"
        if is_path:
            reason = "not a CTranslate2 Whisper model directory"
        else:
            reason = (
                "not in the local Hugging Face cache and not downloadable from here; use 'base' (bundled) "
                "or the path of a CTranslate2 Whisper model directory"
            )
        message = f"cannot load speech model {options.model!r} on {device}/{compute_type}: {reason} ({one_line(exc)})"
        raise ModelError(message) from None


def _check_compute_type(device: str, compute_type: str) -> None:
    """CTranslate2 refuses a compute type the device cannot run, and faster-whisper's error for it reads like a
    bad model: say the real reason first."""
    try:
        supported = ctranslate2.get_supported_compute_types(device)
    except (RuntimeError, ValueError):
        return  # no such device here (CUDA without a GPU): the load itself says so
    if compute_type not in supported and compute_type != "default":
        choices = ", ".join(sorted(supported))
        raise ModelError(f"compute type {compute_type!r} is not supported on {device} (supported: {choices}, or auto)")


def _looks_like_path(location: str) -> bool:
    # "org/name" is a hub repo id, so only explicit paths count as paths
    return location.startswith((".", "/", "~"))


def _split_turns(
    segments: Iterable[Any],
    locate: Callable[[float, float], tuple[int, float, float]],
    gap_s: float,
    channels: list[ChannelInfo],
) -> list[_RawTurn]:
    """Whisper segments can span long silences and several turns: cut them where the speaker changes
    or the words pause, and place every word in the recording's own time."""
    turns: list[_RawTurn] = []
    for seg in segments:
        current: list[Word] = []
        current_channel = -1
        for raw in seg.words or ():
            if not raw.word.strip():
                continue
            channel, start, end = locate(raw.start, raw.end)
            start, end = _snap_to_speech(start, end, channels[channel].speech_spans)
            word = Word(
                start=round(start, 3),
                end=round(end, 3),
                text=to_simplified(raw.word),
                probability=round(raw.probability, 3),
            )
            if current and (channel != current_channel or word.start - current[-1].end >= gap_s):
                turns.append(_RawTurn(current_channel, tuple(current), seg.avg_logprob, seg.no_speech_prob))
                current = []
            current.append(word)
            current_channel = channel
        if current:
            turns.append(_RawTurn(current_channel, tuple(current), seg.avg_logprob, seg.no_speech_prob))
    return turns


def _snap_to_speech(start: float, end: float, spans: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    """Whisper's word edges drift into silence (often ~0.3 s early); VAD knows where speech is."""
    overlapping = [span for span in spans if span[1] > start and span[0] < end]
    if not overlapping:
        return start, end
    return max(start, overlapping[0][0]), min(end, overlapping[-1][1])


def _text(words: Sequence[Word]) -> str:
    return "".join(w.text for w in words).strip()


def _to_segment(turn: _RawTurn, role: Role) -> Segment:
    return Segment(
        role=role,
        channel=turn.channel,
        start=turn.words[0].start,
        end=turn.words[-1].end,
        text=_text(turn.words),
        avg_logprob=round(turn.avg_logprob, 3),
        no_speech_prob=round(turn.no_speech_prob, 3),
        words=turn.words,
    )


def _channel_info(pcm: np.ndarray, channel: int, role: Role, chunks: list[dict[str, int]]) -> ChannelInfo:
    spans = acoustics.chunks_to_spans(chunks)
    tones = acoustics.tone_spans(pcm)
    rms, peak = acoustics.loudness(pcm, spans)
    return ChannelInfo(
        channel=channel,
        role=role,
        speech_spans=spans,
        audio_end=acoustics.audio_end(pcm, tones),
        rms_dbfs=rms,
        peak_dbfs=peak,
        tone_spans=tones,
    )


def _assign_mono_roles(pcm: np.ndarray, segments: list[Segment]) -> list[Segment]:
    ordered = sorted(segments, key=lambda s: s.start)
    roles = mono_roles.assign_roles(pcm, [(s.start, s.end) for s in ordered])
    return [Segment(**{**s.__dict__, "role": r}) for s, r in zip(ordered, roles, strict=True)]
