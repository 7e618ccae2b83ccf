"""Finding calls: CTI sidecars beside audio files and transcript lines (JSON Lines from `callqa transcribe --json`).

Nothing a file holds may cost more than its own call: every bad transcript line is one `FILE:LINE: reason` error,
lines are read with a size bound (never stored whole), and a FIFO nobody writes to is an error after a short wait
instead of a hang. `-` reads standard input.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from transcribe import Role, TranscribeError, Transcript, TranscriptFormatError

AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".amr", ".opus", ".aac", ".wma")
STDIN = "-"
MAX_LINE_BYTES = 16 * 1024 * 1024  # a 3-hour call with every word timed is ~5 MB of JSON
# How long a FIFO may have no writer: long enough for the shell to start the producer of
# `callqa transcribe --json … > fifo`, short enough that a forgotten FIFO is an error, not a hang.
FIFO_WRITER_WAIT_S = 10.0
_CHUNK = 1 << 16
_NAME_MAX = 255  # bytes in one path component (Linux, macOS, Windows)


class Call(NamedTuple):
    path: Path  # the audio the call came from
    outcome: Transcript | TranscribeError
    hangup_by: Role | None = None  # CTI metadata given with the transcript itself


def sidecar_path(audio: Path) -> Path:
    """`call.mp3` → `call.json` (never `call.labels.json` or `call.truth.json`)."""
    return audio.with_suffix(".json")


MAX_SIDECAR_BYTES = 1 << 20  # CTI data is a few hundred bytes; a sidecar is never worth more memory than this
_TIME_FORMATS = ("%Y%m%d-%H%M%S", "%Y%m%d_%H%M%S", "%Y%m%d%H%M%S", "%Y-%m-%d %H-%M-%S")


def _parse_time(value: Any) -> Any:
    """Recorders write times into file names without separators (20240105-093000); ISO 8601 works too."""
    if isinstance(value, str):
        for layout in _TIME_FORMATS:
            try:
                return datetime.strptime(value, layout)
            except ValueError:
                continue
    return value


class CallMetadata(BaseModel):
    """What the recorder and the CTI system say about a call, from its file name and its `NAME.json` sidecar."""

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True, str_max_length=200)

    hangup_by: Role | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    branch: str | None = None
    call_time: Annotated[datetime | None, BeforeValidator(_parse_time)] = None
    direction: Literal["inbound", "outbound"] | None = None


METADATA_FIELDS = frozenset(CallMetadata.model_fields)


class Metadata(NamedTuple):
    fields: CallMetadata
    cti: dict[str, Any] | None  # the sidecar as given, when it is CTI data
    warnings: list[str]


def read_metadata(audio: Path, pattern: Any = None) -> Metadata:
    """The call's metadata: fields from the file name (`pattern`, an RE2 regex with named groups, searched in the
    name without its suffix), overridden by the CTI sidecar's. A bad value is a warning naming the field, and
    only that field is dropped: a call is never refused for its metadata."""
    warnings: list[str] = []
    found: dict[str, Any] = {}
    if pattern is not None:
        match = pattern.search(audio.stem)
        if match is not None:
            named = {k: v for k, v in match.groupdict().items() if v}
            found.update(_valid_fields(named, f"{audio}: file name", warnings))
    cti, problem = read_sidecar(audio)
    if problem:
        warnings.append(problem)
    if cti is not None:
        found.update(_valid_fields(cti, f"{sidecar_path(audio)}:", warnings))
    return Metadata(CallMetadata(**found), cti, warnings)


def _valid_fields(data: dict[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    given = {k: v for k, v in data.items() if k in METADATA_FIELDS and v is not None}
    try:
        return CallMetadata.model_validate(given).model_dump(exclude_none=True)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        for e in exc.errors():
            if e["loc"]:
                warnings.append(f'{where} field "{e["loc"][0]}": {e["msg"]}, not {_brief(given.get(str(e["loc"][0])))}')
        rest = {k: v for k, v in given.items() if k not in bad}
        return CallMetadata.model_validate(rest).model_dump(exclude_none=True)


def read_sidecar(audio: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(the CTI sidecar's JSON object or None, a warning when a sidecar is there but unreadable). A JSON file of
    the same name that holds none of the CTI fields is some other tool's: None, no warning."""
    try:
        path = sidecar_path(audio)
    except ValueError:
        return None, None  # no file name, so nothing can sit beside it
    try:
        if path == audio or not path.is_file():
            return None, None
        with path.open("rb") as handle:
            raw = handle.read(MAX_SIDECAR_BYTES + 1)
        if len(raw) > MAX_SIDECAR_BYTES:
            raise ValueError(f"larger than {MAX_SIDECAR_BYTES // 1024} KB")
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # a name too long, a NUL byte, not UTF-8, not JSON
        return None, f"{path}: unreadable CTI sidecar ({' '.join(str(exc).split())[:200]}); metadata ignored"
    if not isinstance(data, dict) or not METADATA_FIELDS & data.keys():
        return None, None
    return data, None


def read_cti(audio: Path) -> tuple[Role | None, str | None]:
    """(hang-up party from the CTI sidecar or None, a warning when a sidecar is there but unusable)."""
    data, problem = read_sidecar(audio)
    if problem:
        return None, problem.replace("metadata ignored", "hang-up inferred from the audio")
    if data is None or "hangup_by" not in data:
        return None, None
    party = data["hangup_by"]
    if party not in ("client", "agent"):
        path = sidecar_path(audio)
        return None, f'{path}: "hangup_by" must be "client" or "agent", not {_brief(party)}; inferred from the audio'
    return party, None


def read_transcripts(path: Path, *, writer_wait_s: float = FIFO_WRITER_WAIT_S) -> Iterator[Call]:
    """One call per line of a JSON Lines file; a bad line is one error naming `FILE:LINE` and the field, a file
    that cannot be read one error naming the file."""
    try:
        chunks = _chunks(path, writer_wait_s)
    except OSError as exc:
        yield Call(path, TranscribeError(f"{path}: cannot read ({exc.strerror or exc})"))
        return
    number = 0
    try:
        for number, raw in enumerate(bounded_lines(chunks, MAX_LINE_BYTES), 1):
            if raw is not None and not raw.strip():
                continue
            try:
                if raw is None:
                    raise ValueError(f"line longer than {MAX_LINE_BYTES // 2**20} MB")
                transcript, hangup_by = parse_transcript_line(raw)
            except ValueError as exc:
                yield Call(path, TranscribeError(f"{path}:{number}: {exc}"))
                continue
            yield Call(Path(transcript.source), transcript, hangup_by)
    except OSError as exc:  # e.g. EIO from a failing disk: the lines read so far stand
        yield Call(path, TranscribeError(f"{path}:{number + 1}: cannot read ({exc.strerror or exc})"))


def parse_transcript_line(raw: bytes) -> tuple[Transcript, Role | None]:
    """A transcript as `callqa transcribe --json` writes it, plus an optional `"hangup_by"` (CTI metadata).
    Raises ValueError with a one-line reason (`field X: problem` when one field is wrong)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:  # the C decoder recurses per level: thousands of [ exhaust the stack
        raise ValueError("not a transcript: JSON nested too deep to parse") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"not JSON ({' '.join(str(exc).split())[:120]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a transcript: a JSON object expected, got {type(data).__name__}")
    hangup_by = data.get("hangup_by")
    if hangup_by not in (None, "client", "agent"):
        raise ValueError(f'field hangup_by: must be "client" or "agent", not {_brief(hangup_by)}')
    try:
        transcript = Transcript.from_dict(data)
    except TranscriptFormatError as exc:
        raise ValueError(str(exc) if exc.field else f"not a transcript: {exc}") from None
    _check_source(transcript.source)
    return transcript, hangup_by


def _check_source(source: str) -> None:
    """`source` names the audio file: its sidecar is looked up beside it, its name heads the output."""
    if "\0" in source:
        raise ValueError("field source: contains a NUL character, which no file name can")
    path = Path(source)
    if path.name in ("", ".", ".."):
        raise ValueError(f"field source: {_brief(source)} does not name a file")
    if any(len(os.fsencode(part)) > _NAME_MAX for part in path.parts):
        raise ValueError(f"field source: a name in it is longer than {_NAME_MAX} bytes, which no file name can be")


def bounded_lines(chunks: Iterable[bytes], limit: int) -> Iterator[bytes | None]:
    """The lines of a byte stream without their newlines; None for a line longer than `limit` bytes, which is
    skipped to its end without being kept (a file of no newlines at all costs no memory)."""
    pending = bytearray()
    too_long = False
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if not too_long:
                pending += chunk[start:] if end < 0 else chunk[start:end]
                if len(pending) > limit:
                    too_long = True
                    pending.clear()
            if end < 0:
                break
            yield None if too_long else bytes(pending)
            pending.clear()
            too_long = False
            start = end + 1
    if pending or too_long:
        yield None if too_long else bytes(pending)


def _chunks(path: Path, writer_wait_s: float) -> Iterator[bytes]:
    """The bytes of a regular file, a pipe or stdin, in chunks; raises OSError for anything else."""
    if str(path) == STDIN:
        stdin = sys.stdin.buffer
        return _read_chunks(getattr(stdin, "read1", stdin.read), None)  # read1: a line as soon as it arrives
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO would block this open until a writer appears
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise OSError(0, "not a regular file or a pipe")  # /dev/zero, a terminal: no end or no transcripts
        first = _await_writer(fd, writer_wait_s) if stat.S_ISFIFO(mode) else b""
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return _read_chunks(lambda size: os.read(fd, size), fd, first)


def _read_chunks(read: Callable[[int], bytes], fd: int | None, first: bytes = b"") -> Iterator[bytes]:
    try:
        if first:
            yield first
        while chunk := read(_CHUNK):
            yield chunk
    finally:
        if fd is not None:
            os.close(fd)


def _await_writer(fd: int, wait_s: float) -> bytes:
    """The first bytes of a FIFO opened non-blocking, once a writer has opened it. Reading such a FIFO returns
    nothing while it has no writer and raises BlockingIOError while a writer has not written yet."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            first = os.read(fd, _CHUNK)
        except BlockingIOError:
            return b""
        if first:
            return first
        if time.monotonic() >= deadline:
            raise OSError(0, f"a FIFO nobody wrote to within {wait_s:g} s")
        time.sleep(0.05)


def _brief(value: object) -> str:
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."
