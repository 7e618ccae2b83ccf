"""`callqa transcribe`: audio files → role-labelled transcripts (a table, or JSON Lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import RenderableType
from rich.table import Table

from api.cli.common import WorkersOption, transcribe_all
from api.cli.output import ExitCode, error, out, plain, write_json_line
from transcribe import TranscribeError, Transcript


def transcribe_files(
    files: Annotated[list[Path], typer.Argument(help="audio files (WAV, MP3, M4A, OGG, FLAC, AMR…)", readable=False)],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON transcript per line (JSON Lines)")] = False,
    workers: WorkersOption = None,
) -> None:
    """Transcribe calls into role-labelled Mandarin transcripts."""
    failures = 0
    table = _summary_table()
    for path, outcome in transcribe_all(files, workers):
        if isinstance(outcome, TranscribeError):
            failures += 1
            error(str(outcome))
        elif as_json:
            write_json_line(json.dumps(outcome.to_dict(), ensure_ascii=False))
        else:
            table.add_row(*_summary_row(path, outcome))
    if table.row_count:
        out.print(table)
    if failures:
        raise typer.Exit(ExitCode.BAD_INPUT)


def _summary_table() -> Table:
    table = Table(title="Transcripts", show_lines=False)
    for column in ("call", "duration", "roles", "segments", "transcript excerpt"):
        table.add_column(column, overflow="fold")
    return table


def _summary_row(path: Path, transcript: Transcript) -> tuple[RenderableType, ...]:
    roles = "stereo" if transcript.roles_confident else "mono (guessed)"
    excerpt = " / ".join(f"{s.role[0].upper()}: {s.text}" for s in transcript.segments[:3])
    return (plain(path.name), f"{transcript.duration:.1f} s", roles, str(len(transcript.segments)), plain(excerpt[:90]))
