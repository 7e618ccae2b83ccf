"""Both parties' speech, cut out by VAD and laid end to end in conversation order, for one Whisper pass.

Whisper decodes 30-second windows whatever they hold, so transcribing each channel's sparse speech
separately pays for padding twice; one interleaved stream also gives Whisper the dialogue as context.
Every piece remembers its channel and where it came from, so each word maps back to the recording.
The stream is only a plan (pieces and offsets): its audio is built block by block (`blocks`, `audio`), because
faster-whisper computes the features of all the audio it is given at once (a 3-hour call: gigabytes).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

import numpy as np

from transcribe.audio import as_float

SpeechChunks = list[dict[str, int]]  # Silero's shape: sample offsets {"start", "end"}

# Whisper's word times run early. Judging a word by its middle this much later moved boundary words to the
# right speaker on the samples: mean CER agent 11.2 -> 11.0 %, client 18.5 -> 17.8 %, the same for any
# value from 0.05 to 0.3 s; 0.15 is the middle of that plateau.
WORD_LAG_S = 0.15


@dataclass(frozen=True)
class Piece:
    channel: int
    source_start: int  # sample offset in the recording
    offset: int  # sample offset in the interleaved stream
    length: int


@dataclass(frozen=True)
class Interleaved:
    pieces: tuple[Piece, ...]
    rate: int

    def audio(self, pcm: np.ndarray) -> np.ndarray:
        """The stream as float32: each piece cut from `pcm` (int16 or float), zeros between pieces."""
        stream = np.zeros(self.pieces[-1].offset + self.pieces[-1].length if self.pieces else 0, dtype=np.float32)
        for p in self.pieces:
            source = pcm[p.channel, p.source_start : p.source_start + p.length]
            stream[p.offset : p.offset + p.length] = as_float(source)
        return stream

    def blocks(self, max_s: float) -> list[Interleaved]:
        """The stream cut at piece boundaries into streams of at most `max_s` seconds (a longer piece stands
        alone), each with offsets from its own start."""
        groups: list[list[Piece]] = []
        for piece in self.pieces:
            if not groups or piece.offset + piece.length - groups[-1][0].offset > max_s * self.rate:
                groups.append([])
            groups[-1].append(piece)
        return [
            Interleaved(pieces=tuple(replace(p, offset=p.offset - group[0].offset) for p in group), rate=self.rate)
            for group in groups
        ]

    def locate(self, start: float, end: float) -> tuple[int, float, float]:
        """Map a span of the stream to (channel, start, end) in the recording, by the piece of its middle
        (moved WORD_LAG_S later). A middle that falls in the separator before a piece belongs to that piece."""
        middle = int(((start + end) / 2 + WORD_LAG_S) * self.rate)
        index = min(bisect.bisect_right([p.offset + p.length for p in self.pieces], middle), len(self.pieces) - 1)
        piece = self.pieces[index]
        shift = (piece.source_start - piece.offset) / self.rate
        low, high = piece.offset / self.rate, (piece.offset + piece.length) / self.rate
        if start < low:  # an early word moves into its piece whole, rather than shrinking to nothing at its edge
            start, end = low, end + (low - start)
        return piece.channel, min(start, high) + shift, min(end, high) + shift


def interleave(
    pcm: np.ndarray,
    chunks_by_channel: list[SpeechChunks],
    rate: int,
    pad_s: float,
    merge_gap_s: float,
    separator_s: float = 0.0,
    max_piece_s: float = float("inf"),
) -> Interleaved:
    longest = int(min(max_piece_s * rate, pcm.shape[1]))
    spans = [
        (chunk["start"], chunk["end"], channel)
        for channel, chunks in enumerate(chunks_by_channel)
        for chunk in pad_and_merge(chunks, pcm.shape[1], int(pad_s * rate), int(merge_gap_s * rate), longest)
    ]
    pieces: list[Piece] = []
    offset = 0
    separator = int(separator_s * rate)
    for start, end, channel in sorted(spans):
        if pieces:  # silence between pieces keeps Whisper from running one speaker's words into the next
            offset += separator
        pieces.append(Piece(channel=channel, source_start=start, offset=offset, length=end - start))
        offset += end - start
    return Interleaved(pieces=tuple(pieces), rate=rate)


def pad_and_merge(chunks: SpeechChunks, length: int, pad: int, gap: int, longest: int) -> SpeechChunks:
    """Give Whisper a little air around each chunk, and one piece for words split by a short pause, as long as
    the piece stays within `longest` samples."""
    merged: SpeechChunks = []
    for chunk in chunks:
        start, end = max(0, chunk["start"] - pad), min(length, chunk["end"] + pad)
        if merged and start - merged[-1]["end"] <= gap and end - merged[-1]["start"] <= longest:
            merged[-1]["end"] = max(merged[-1]["end"], end)
        else:
            merged.append({"start": start, "end": end})
    return merged
