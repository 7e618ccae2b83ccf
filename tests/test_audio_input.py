"""Reading audio: formats, rates, layouts, and every kind of bad input, without the speech model."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.audio_factory import ffmpeg, noise, tone, write_wav
from transcribe import AudioError
from transcribe import audio as audio_io


@pytest.fixture(scope="module")
def stereo_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fmt")
    left = np.concatenate([tone(1.0, 300, -20), noise(2.0)])
    right = np.concatenate([noise(1.5), tone(1.5, 600, -20)])
    return write_wav(folder / "call.wav", [left, right], rate=8000)


FORMATS = {
    "mp3": ("-c:a", "libmp3lame", "-b:a", "32k"),
    "m4a": ("-c:a", "aac", "-b:a", "32k"),
    "ogg": ("-c:a", "libvorbis"),
    "flac": ("-c:a", "flac"),
}


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_compressed_formats_decode_to_both_channels(stereo_wav: Path, tmp_path: Path, ext: str) -> None:
    encoded = ffmpeg(stereo_wav, tmp_path / f"call.{ext}", *FORMATS[ext])
    info = audio_io.probe(encoded)
    pcm = audio_io.decode(info, max_duration=60)
    assert info.channel_count == 2
    assert info.duration == pytest.approx(3.0, abs=0.15)
    assert pcm.shape[0] == 2
    assert pcm.shape[1] / audio_io.SAMPLE_RATE == pytest.approx(3.0, abs=0.15)
    # the 300 Hz burst is on the left at the start, the 600 Hz one on the right at the end
    head, tail = slice(1600, 14000), slice(34000, 46000)
    assert np.abs(pcm[0, head]).mean() > 20 * np.abs(pcm[1, head]).mean()
    assert np.abs(pcm[1, tail]).mean() > 20 * np.abs(pcm[0, tail]).mean()


def test_amr_narrowband_mono_decodes(stereo_wav: Path, tmp_path: Path) -> None:
    # Debian's ffmpeg decodes AMR but cannot encode it; sox can (libopencore-amrnb, installed by `make test`)
    amr = tmp_path / "call.amr"
    subprocess.run(["sox", str(stereo_wav), "-r", "8000", "-c", "1", "-t", "amr-nb", str(amr)], check=True)
    info = audio_io.probe(amr)
    assert (info.channel_count, info.sample_rate, info.codec) == (1, 8000, "amrnb")
    pcm = audio_io.decode(info, 60)  # raw AMR states no length; PyAV's estimate from the bit rate is rough
    assert pcm.shape[0] == 1
    assert pcm.shape[1] / audio_io.SAMPLE_RATE == pytest.approx(3.0, abs=0.05)


def test_amr_comfort_noise_frames_keep_the_timeline(tmp_path: Path) -> None:
    # A mobile recorder's encoder sends comfort-noise (SID) frames in pauses; FFmpeg cannot decode them.
    source = write_wav(
        tmp_path / "dtx.wav", [np.concatenate([tone(1.0, 300, -12), noise(3.0, -70), tone(1.0, 300, -12)])]
    )
    amr = tmp_path / "dtx.amr"
    subprocess.run(["sox", str(source), "-t", "amr-nb", str(amr)], check=True)
    pcm = audio_io.as_float(audio_io.decode(audio_io.probe(amr), 60))
    rate = audio_io.SAMPLE_RATE
    assert pcm.shape[1] / rate == pytest.approx(5.0, abs=0.05)
    assert np.abs(pcm[0, int(4.2 * rate) : int(4.8 * rate)]).mean() > 0.05  # the second tone is still at 4 s


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_any_sample_rate_becomes_16k(tmp_path: Path, rate: int) -> None:
    path = write_wav(tmp_path / "r.wav", [tone(2.0, 440, -6, rate=rate)], rate=rate)
    info = audio_io.probe(path)
    pcm = audio_io.as_float(audio_io.decode(info, 60))
    assert info.sample_rate == rate
    assert pcm.shape == (1, 2 * audio_io.SAMPLE_RATE)
    assert np.sqrt(np.mean(pcm**2)) == pytest.approx(10 ** (-6 / 20), rel=0.05)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file"):
        audio_io.probe(tmp_path / "empty.wav")


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("这不是音频文件\n" * 50)
    with pytest.raises(AudioError, match=r"notes\.mp3: not a readable audio file"):
        audio_io.probe(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="file not found"):
        audio_io.probe(tmp_path / "absent.wav")
    with pytest.raises(AudioError, match="is a directory"):
        audio_io.probe(tmp_path)


def test_truncated_mp3_is_an_error(tmp_path: Path) -> None:
    long_wav = write_wav(tmp_path / "long.wav", [tone(30, 300, -20), tone(30, 500, -20)])
    whole = ffmpeg(long_wav, tmp_path / "whole.mp3", "-c:a", "libmp3lame", "-b:a", "32k")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 4])
    info = audio_io.probe(cut)  # the Xing header still tells the full length
    with pytest.raises(AudioError, match=r"cut\.mp3: truncated or corrupt: header says 30\.0 s, only 7\.\d s"):
        audio_io.decode(info, 60)


def test_a_wav_cut_short_of_its_header_is_an_error(tmp_path: Path) -> None:
    whole = write_wav(tmp_path / "whole.wav", [tone(20, 300, -20), tone(20, 500, -20)])
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])  # an interrupted copy or upload
    with pytest.raises(AudioError, match=r"cut\.wav: truncated or corrupt: header says 20\.0 s, only 6\.7 s"):
        audio_io.decode(audio_io.probe(cut), 60)
    stub = tmp_path / "stub.wav"
    stub.write_bytes(whole.read_bytes()[:30])
    with pytest.raises(AudioError, match=r"stub\.wav: "):
        audio_io.decode(audio_io.probe(stub), 60)


def test_a_wav_whose_recorder_never_wrote_the_size_keeps_what_is_there(tmp_path: Path) -> None:
    data = bytearray(write_wav(tmp_path / "whole.wav", [tone(6, 300, -20)]).read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = b"\xff\xff\xff\xff"  # streaming recorders fill the size in only when they stop
    live = tmp_path / "live.wav"
    live.write_bytes(bytes(data))
    assert audio_io.decode(audio_io.probe(live), 60).shape[1] / audio_io.SAMPLE_RATE == pytest.approx(6, abs=0.01)


def test_a_stream_without_a_known_codec_is_an_error() -> None:
    # The first KB of an M4A with one size byte of its 'minf' box damaged: FFmpeg sees an audio stream with no codec.
    damaged = Path(__file__).parent / "fixtures" / "unknown_codec.m4a"
    with pytest.raises(AudioError, match=r"unknown_codec\.m4a: unknown or unsupported audio codec"):
        audio_io.probe(damaged)


def test_garbage_after_valid_header(tmp_path: Path) -> None:
    whole = ffmpeg(write_wav(tmp_path / "a.wav", [tone(5, 300, -20)]), tmp_path / "a.m4a", "-c:a", "aac", "-b:a", "32k")
    data = bytearray(whole.read_bytes())
    rng = np.random.default_rng(1)
    data[2000:] = rng.integers(0, 256, len(data) - 2000, dtype=np.uint8).tobytes()
    broken = tmp_path / "broken.m4a"
    broken.write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"broken\.m4a: "):
        audio_io.decode(audio_io.probe(broken), 60)


def test_over_limit_is_refused_from_metadata_before_decoding(tmp_path: Path, monkeypatch) -> None:
    from transcribe import Transcriber

    path = write_wav(tmp_path / "long.wav", [noise(40.0), noise(40.0, seed=1)])
    transcriber = Transcriber.__new__(Transcriber)  # no model needed: the check precedes decoding
    transcriber.options = _options(max_duration_s=30)

    def no_decoding(*_args: object) -> None:
        raise AssertionError("decoded before checking the duration")

    monkeypatch.setattr(audio_io, "decode", no_decoding)
    with pytest.raises(AudioError, match=r"long\.wav: 0:00:40 is longer than the 0:00:30 limit"):
        transcriber.transcribe(path)


def test_decoding_stops_at_limit_when_metadata_has_no_duration(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "long.wav", [tone(40.0, 300, -20)])
    raw = ffmpeg(wav, tmp_path / "long.ts", "-c:a", "mp2", "-f", "mpegts")  # streams carry no total length
    info = audio_io.probe(raw)
    with pytest.raises(AudioError, match="longer than the 0:00:10 limit"):
        audio_io.decode(info, max_duration=10)


def _options(**changes: object):
    from dataclasses import replace

    from transcribe import TranscribeOptions

    return replace(TranscribeOptions(), **changes)
