"""Mapping words of the interleaved stream back to the recording's channels and seconds."""

import numpy as np
import pytest

from transcribe.timeline import WORD_LAG_S, interleave

RATE = 1000  # samples per second: offsets in the test read as milliseconds


def _two_turns():  # agent speaks 1.0-3.0 s, client 5.0-6.0 s of the recording
    pcm = np.zeros((2, 8 * RATE), dtype=np.float32)
    chunks = [[{"start": 1000, "end": 3000}], [{"start": 5000, "end": 6000}]]
    return interleave(pcm, chunks, RATE, pad_s=0.0, merge_gap_s=0.5, separator_s=0.3)


def test_pieces_are_laid_end_to_end_with_separators_in_conversation_order() -> None:
    stream = _two_turns()
    assert [(p.channel, p.source_start, p.offset, p.length) for p in stream.pieces] == [
        (0, 1000, 0, 2000),
        (1, 5000, 2300, 1000),
    ]
    assert len(stream.audio(np.zeros((2, 8 * RATE), dtype=np.int16))) == 3300


def test_a_word_inside_a_piece_maps_to_its_channel_and_recording_time() -> None:
    assert _two_turns().locate(0.5, 0.9) == (0, 1.5, 1.9)
    assert _two_turns().locate(2.5, 2.9) == (1, 5.2, 5.6)


def test_an_early_word_whose_middle_is_just_before_the_next_piece_belongs_to_it_whole() -> None:
    # Whisper's word times run early: this 0.4 s word's middle is before the first piece ends (2.0 s of the
    # stream), by less than the lag.
    middle = 2.0 - WORD_LAG_S / 2
    channel, start, end = _two_turns().locate(middle - 0.2, middle + 0.2)
    assert channel == 1
    assert (start, end) == pytest.approx((5.0, 5.4))  # moved to the client piece's start, its length kept


def test_a_word_running_into_the_separator_is_cut_at_its_piece_end() -> None:
    assert _two_turns().locate(1.2, 2.2) == (0, 2.2, 3.0)


def test_pieces_merge_across_short_pauses_but_never_past_the_longest_piece() -> None:
    pcm = np.zeros((1, 60 * RATE), dtype=np.float32)
    chunks = [[{"start": 0, "end": 20_000}, {"start": 20_300, "end": 27_000}, {"start": 27_200, "end": 40_000}]]
    stream = interleave(pcm, chunks, RATE, pad_s=0.0, merge_gap_s=0.5, separator_s=0.3, max_piece_s=28.0)
    assert [(p.source_start, p.length) for p in stream.pieces] == [(0, 27_000), (27_200, 12_800)]


def test_long_streams_go_to_whisper_in_blocks_cut_between_pieces() -> None:
    pcm = np.zeros((2, 60 * RATE), dtype=np.int16)
    pcm[1, 30_000:31_000] = 16384  # the client's piece is half-scale
    chunks = [[{"start": 1000, "end": 3000}, {"start": 10_000, "end": 14_000}], [{"start": 30_000, "end": 31_000}]]
    stream = interleave(pcm, chunks, RATE, pad_s=0.0, merge_gap_s=0.5, separator_s=0.3)
    blocks = stream.blocks(max_s=6.5)  # the stream: 0-2, 2.3-6.3, 6.6-7.6 s
    assert [[(p.source_start, p.offset) for p in b.pieces] for b in blocks] == [
        [(1000, 0), (10_000, 2300)],
        [(30_000, 0)],
    ]
    assert blocks[1].locate(0.2, 0.4) == (1, 30.2, 30.4)  # a block's own times map back to the recording
    assert blocks[1].audio(pcm).tolist() == [0.5] * 1000  # float32 from int16, only this block's pieces
    assert len(blocks[0].audio(pcm)) == 6300
    assert stream.blocks(max_s=600) == [stream]  # a normal call is one block: what Whisper hears is unchanged
