"""What several commands need before they start: settings, phrasebooks, and transcripts of audio files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from api.cli.output import ExitCode, fail
from api.config import MAX_WORKERS, Settings, default_database_url, get_settings
from api.errors import ConfigError
from api.store import make_engine, make_sessionmaker, open_store
from api.worker import TranscriberPool, default_workers
from scoring import Phrasebook, PhrasebookError, load_phrasebooks
from transcribe import ModelError, TranscribeError, Transcript

WorkersOption = Annotated[
    int | None, typer.Option(min=0, max=MAX_WORKERS, help="parallel processes (default: CALLQA_WORKERS or cores)")
]


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)


def phrasebook_or_exit() -> Phrasebook:
    try:
        return load_phrasebooks(settings_or_exit().phrasebooks_dir)
    except PhrasebookError as exc:
        fail(str(exc), ExitCode.CONFIG)


def worker_count(requested: int | None, settings: Settings, jobs: int | None = None) -> int:
    """Local transcription processes: `--workers`, else CALLQA_WORKERS, else one per core; never more than jobs."""
    count = requested or settings.workers or default_workers()
    return count if jobs is None else min(count, jobs)


def transcribe_all(files: Sequence[Path], workers: int | None) -> Iterator[tuple[Path, Transcript | TranscribeError]]:
    """(path, transcript or that file's error) in input order; exits with CONFIG when the model is unusable,
    since every other file would fail the same way."""
    if not files:
        return
    settings = settings_or_exit()
    try:
        with TranscriberPool(
            settings.transcribe_options(), workers=worker_count(workers, settings, len(files))
        ) as pool:
            for path, outcome in pool.transcribe(files):
                if isinstance(outcome, ModelError):
                    raise outcome
                yield path, outcome
    except ModelError as exc:
        fail(str(exc), ExitCode.CONFIG)


def store_or_exit(*, migrate: bool = True) -> sessionmaker[Session]:
    """Sessions on the configured store, its schema checked (the embedded default is upgraded on first use)."""
    settings = settings_or_exit()
    try:
        engine = make_engine(settings.database_url)
        if migrate:
            open_store(engine, auto_upgrade=settings.database_url == default_database_url())
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)
    return make_sessionmaker(engine)
