"""A file's stated length against what decodes: truncation is refused, understated or guessed lengths are not;
and what `probe` says about things that are not audio files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.audio_factory import ffmpeg, noise, tone, write_wav
from transcribe import AudioError
from transcribe import audio as audio_io

SAMPLES = sorted((Path(__file__).parent.parent / "samples").glob("*.mp3"))


def _seconds(pcm: np.ndarray) -> float:
    return pcm.shape[1] / audio_io.SAMPLE_RATE


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_decodes_to_its_stated_length(sample: Path) -> None:
    info = audio_io.probe(sample)
    assert info.duration_exact
    assert _seconds(audio_io.decode(info, 600)) == pytest.approx(info.duration, abs=0.05)


def test_a_sample_cut_at_90_percent_is_refused(tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(SAMPLES[0].read_bytes()[: SAMPLES[0].stat().st_size * 9 // 10])
    info = audio_io.probe(cut)  # the Info (Xing) tag of the first frame still counts every frame
    with pytest.raises(AudioError, match=r"cut\.mp3: truncated or corrupt: header says 56\.8 s, only 51\.2 s"):
        audio_io.decode(info, 600)


def test_a_ten_minute_call_missing_54_seconds_is_refused(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "long.wav", [noise(600, -30) + tone(600, 300, -20)])
    whole = ffmpeg(wav, tmp_path / "whole.mp3", "-c:a", "libmp3lame", "-b:a", "16k")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 91 // 100])
    with pytest.raises(AudioError, match=r"header says 600\.\d s, only 54\d\.\d s decodable"):
        audio_io.decode(audio_io.probe(cut), 3600)


def test_an_mp3_without_a_length_tag_has_a_guessed_length(tmp_path: Path) -> None:
    untagged = tmp_path / "untagged.mp3"
    ffmpeg(SAMPLES[0], untagged, "-c", "copy", "-write_xing", "0")
    info = audio_io.probe(untagged)  # FFmpeg's estimate from the first frame's bit rate
    assert not info.duration_exact
    audio_io.check_length(info, info.duration - 1)  # a guess refuses nothing


def test_a_wav_holding_more_than_its_header_declares_is_decoded_whole(tmp_path: Path) -> None:
    data = bytearray(write_wav(tmp_path / "whole.wav", [tone(57, 300, -20)]).read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = (10 * 8000 * 2).to_bytes(4, "little")  # a recorder that wrote the size once, early
    early = tmp_path / "early.wav"
    early.write_bytes(bytes(data))
    info = audio_io.probe(early)
    assert info.duration == pytest.approx(57)
    assert _seconds(audio_io.decode(info, 600)) == pytest.approx(57, abs=0.01)


def test_a_wav_with_metadata_after_its_data_keeps_its_declared_length(tmp_path: Path) -> None:
    data = bytearray(write_wav(tmp_path / "plain.wav", [tone(5, 300, -20)]).read_bytes())
    data += b"LIST" + (26).to_bytes(4, "little") + b"INFOINAM" + (14).to_bytes(4, "little") + b"call 2026-11-2\x00\x00"
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    tagged = tmp_path / "tagged.wav"
    tagged.write_bytes(bytes(data))
    pcm = audio_io.decode(audio_io.probe(tagged), 600)
    assert _seconds(pcm) == pytest.approx(5, abs=0.01)


def test_raw_aac_with_a_long_length_guess_is_decoded_up_to_the_limit(tmp_path: Path) -> None:
    # Quiet first, loud later: FFmpeg guesses the length of ADTS from the first frames' bit rate, far too long.
    wav = write_wav(tmp_path / "q.wav", [np.concatenate([np.zeros(10 * 8000), noise(10, -10)])])
    raw = ffmpeg(wav, tmp_path / "call.aac", "-c:a", "aac", "-b:a", "32k")
    info = audio_io.probe(raw)
    assert info.duration is not None and info.duration > 60 and not info.duration_exact
    audio_io.check_length(info, 60)  # the guess refuses nothing ...
    assert _seconds(audio_io.decode(info, 60)) == pytest.approx(20, abs=0.3)  # ... and the real 20 s decode
    with pytest.raises(AudioError, match=r"call\.aac: longer than the 0:00:10 limit"):
        audio_io.decode(info, 10)  # the limit still holds, while decoding


def test_an_exact_length_over_the_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    info = audio_io.probe(write_wav(tmp_path / "long.wav", [noise(40.0)]))
    with pytest.raises(AudioError, match=r"long\.wav: 0:00:40 is longer than the 0:00:30 limit"):
        audio_io.check_length(info, 30)


def test_random_bytes_named_mp3_are_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "random.mp3"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError, match=r"random\.mp3: not a readable audio file"):
        audio_io.probe(path)


def test_a_fifo_is_not_a_regular_file_and_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "call.wav"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    # opening a FIFO nobody writes to would block forever: run the probe where the test can give up on it
    worker = threading.Thread(target=lambda: _record(outcome, fifo), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "probe blocked on a FIFO"
    assert [str(e) for e in outcome] == [f"{fifo}: not a regular file"]


def test_a_device_is_not_a_regular_file() -> None:
    with pytest.raises(AudioError, match=r"^/dev/zero: not a regular file$"):
        audio_io.probe(Path("/dev/zero"))


def _record(outcome: list[BaseException], path: Path) -> None:
    try:
        audio_io.probe(path)
    except AudioError as exc:
        outcome.append(exc)


def test_calls_over_an_hour_are_held_as_int16(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = write_wav(tmp_path / "call.wav", [tone(8, 300, -6)])
    assert audio_io.decode(audio_io.probe(wav), 600).dtype == np.float32  # normal calls: as Whisper hears them
    monkeypatch.setattr(audio_io, "_FLOAT_MAX_S", 5.0)  # an "hour" of 5 s, so that the test stays small
    compact = audio_io.decode(audio_io.probe(wav), 600)
    assert compact.dtype == np.int16
    assert np.sqrt(np.mean(audio_io.as_float(compact) ** 2)) == pytest.approx(10 ** (-6 / 20), rel=0.01)


def test_a_stream_of_unknown_length_switches_to_int16_past_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav = write_wav(tmp_path / "long.wav", [np.concatenate([tone(6, 300, -6), tone(6, 500, -20)])])
    stream = ffmpeg(wav, tmp_path / "long.aac", "-c:a", "aac", "-b:a", "64k")  # ADTS: its length is only guessed
    info = audio_io.probe(stream)
    assert not info.duration_exact
    monkeypatch.setattr(audio_io, "_FLOAT_MAX_S", 5.0)
    pcm = audio_io.decode(info, 60)
    assert pcm.dtype == np.int16
    assert pcm.shape[1] / audio_io.SAMPLE_RATE == pytest.approx(12, abs=0.25)  # AAC priming: 0.16 s
    rate = audio_io.SAMPLE_RATE
    head, tail = audio_io.as_float(pcm[0, rate : 4 * rate]), audio_io.as_float(pcm[0, 8 * rate : 11 * rate])
    assert 20 * np.log10(np.sqrt(np.mean(head**2))) == pytest.approx(-6, abs=0.5)  # written before the switch
    assert 20 * np.log10(np.sqrt(np.mean(tail**2))) == pytest.approx(-20, abs=0.5)  # and after it
