"""`callqa` command line. Every failure is one line on stderr and a non-zero exit code, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from api import score_cli
from api.config import MAX_WORKERS, Settings, get_settings
from api.worker import TranscriberPool, default_workers
from transcribe import ModelError, TranscribeError, Transcript

EXIT_BAD_INPUT = 1  # at least one file could not be processed; the others were
EXIT_CONFIG = 2  # configuration or model problem: nothing was processed

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Quality checks for recorded service calls.")
out = Console()
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Quality checks for recorded service calls."""


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"CALLQA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        _fail(f"configuration error: {problems}", EXIT_CONFIG)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def transcribe(
    files: Annotated[list[Path], typer.Argument(help="audio files (WAV, MP3, M4A, OGG, FLAC, AMR…)")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON transcript per line (JSON Lines)")] = False,
    workers: Annotated[
        int | None, typer.Option(min=0, max=MAX_WORKERS, help="parallel processes (default: CALLQA_WORKERS or cores)")
    ] = None,
) -> None:
    """Transcribe calls into role-labelled Mandarin transcripts."""
    settings = _settings()
    options = settings.transcribe_options()
    count = min(workers or settings.workers or default_workers(), len(files))
    failures = 0
    table = _summary_table()
    try:
        with TranscriberPool(options, workers=count) as pool:
            for path, outcome in pool.transcribe(files):
                if isinstance(outcome, ModelError):
                    raise outcome
                if isinstance(outcome, TranscribeError):
                    failures += 1
                    err.print(f"[red]error:[/red] {outcome}", highlight=False, soft_wrap=True)
                elif as_json:
                    sys.stdout.write(json.dumps(outcome.to_dict(), ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                else:
                    table.add_row(*_summary_row(path, outcome))
    except ModelError as exc:  # every other file would fail the same way
        _fail(str(exc), EXIT_CONFIG)
    if table.row_count:
        out.print(table)
    if failures:
        raise typer.Exit(EXIT_BAD_INPUT)


def _summary_table() -> Table:
    table = Table(title="Transcripts", show_lines=False)
    for column in ("call", "duration", "roles", "segments", "transcript excerpt"):
        table.add_column(column, overflow="fold")
    return table


def _summary_row(path: Path, transcript: Transcript) -> tuple[str, ...]:
    roles = "stereo" if transcript.roles_confident else "mono (guessed)"
    excerpt = " / ".join(f"{s.role[0].upper()}: {s.text}" for s in transcript.segments[:3])
    return (path.name, f"{transcript.duration:.1f} s", roles, str(len(transcript.segments)), excerpt[:90])


score_cli.register(app)  # score, eval, rules


def main() -> None:
    app()
