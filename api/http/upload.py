"""Receiving a multipart upload as a stream: the file part goes to disk chunk by chunk under a server-chosen
temporary name and the upload is cut off (413) as soon as it passes the size limit, before it is all read."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.errors import BadInput, TooLarge

MAX_FIELD_BYTES = 1000


@dataclass
class Received:
    path: Path | None = None
    filename: str = ""
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)


async def receive_upload(request: Request, *, directory: Path, limit: int) -> Received:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadInput("send the recording as multipart/form-data with a 'file' part")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise TooLarge(f"the upload is {int(declared)} bytes; the limit is {limit}")
    directory.mkdir(parents=True, exist_ok=True)
    sink = _Sink(directory)
    parser = MultipartParser(boundary, sink.callbacks())
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit + 64 * 1024:  # the file plus room for the form's own fields and boundaries
                raise TooLarge(f"the upload passed the limit of {limit} bytes")
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        sink.discard()
        raise BadInput(f"the multipart body is malformed ({exc})") from None
    except BaseException:
        sink.discard()
        raise
    return sink.result()


class _Sink:
    def __init__(self, directory: Path) -> None:
        self.directory, self.part, self.received = directory, _Part(), Received()
        self.header_name, self.header_value = bytearray(), bytearray()
        self.handle: Any = None
        self.bad: str | None = None

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self.header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self.part = _Part()

    def _header_end(self) -> None:
        self.part.headers[bytes(self.header_name).lower().decode("latin-1")] = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None and self.part.name == "file":
            if self.handle is not None:
                self.bad = "send one 'file' part"
                return
            self.part.filename = filename.decode("utf-8", "replace")
            self.handle = tempfile.NamedTemporaryFile(dir=self.directory, prefix=".upload-", delete=False)  # noqa: SIM115  (closed in _end or discard)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.part.filename is not None:
            self.handle.write(data[start:end])
        elif len(self.part.value) + end - start <= MAX_FIELD_BYTES:
            self.part.value.extend(data[start:end])
        else:
            self.bad = f"field {self.part.name!r} is longer than {MAX_FIELD_BYTES} bytes"

    def _end(self) -> None:
        if self.part.filename is not None:
            self.handle.close()
            self.received.path, self.received.filename = Path(self.handle.name), self.part.filename
        elif self.part.name:
            self.received.fields[self.part.name] = self.part.value.decode("utf-8", "replace")

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
            Path(self.handle.name).unlink(missing_ok=True)

    def result(self) -> Received:
        if self.bad or self.received.path is None:
            self.discard()
            raise BadInput(self.bad or "no 'file' part: send the recording as the form field 'file'")
        return self.received
