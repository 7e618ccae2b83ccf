"""`callqa serve`: the review service (FastAPI on uvicorn)."""

from __future__ import annotations

import os
import secrets
import tempfile
from typing import Annotated

import typer
from celery import Celery
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from api.cli.common import phrasebook_or_exit, settings_or_exit, store_or_exit, worker_count
from api.cli.output import ExitCode, fail, warning
from api.config import MIN_SECRET_CHARS, Settings, get_settings
from api.services.versions import current_versions
from api.store import make_engine, make_sessionmaker
from api.worker.celery_app import BrokerError, CeleryProcessor, check_broker, make_app
from api.worker.local import LocalProcessor, pool_transcriber
from scoring import Phrasebook

PROMETHEUS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own name: where each process keeps its metrics


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="HTTP worker processes (above 1 needs CALLQA_BROKER_URL: uploads go to Celery)"
        ),
    ] = 1,
    dev: Annotated[
        bool, typer.Option(help="without CALLQA_SECRET_KEY, sign tokens with a throwaway key (dies with the process)")
    ] = False,
) -> None:
    """Serve the review API (OpenAPI at /docs)."""
    import uvicorn

    settings = settings_or_exit()
    secret = _secret_or_exit(settings, dev)
    if workers > 1 and not settings.broker_url:
        fail(
            f"--workers {workers}: several HTTP processes need CALLQA_BROKER_URL, so that uploads go to the Celery "
            "workers; without a broker, the one serving process runs the local transcription pool",
            ExitCode.CONFIG,
        )
    sessions = store_or_exit()  # migrates (or refuses a stale schema) once, before any worker starts
    book = phrasebook_or_exit()
    if workers == 1:
        _serve_one(settings, sessions, book, secret, host, port)
        return
    _broker_or_exit(settings)
    # The workers are fresh interpreters that read their configuration from the environment, as this one did.
    os.environ["CALLQA_SECRET_KEY"] = secret
    with tempfile.TemporaryDirectory(prefix="callqa-metrics-") as metrics_dir:
        os.environ[PROMETHEUS_DIR] = metrics_dir  # /metrics then sums every worker's counts
        uvicorn.run(
            "api.cli.serve:worker_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=False,
        )


def _serve_one(
    settings: Settings, sessions: sessionmaker[Session], book: Phrasebook, secret: str, host: str, port: int
) -> None:
    import uvicorn

    from api.http import create_app

    processor: LocalProcessor | CeleryProcessor
    if settings.broker_url:
        processor = CeleryProcessor(_broker_or_exit(settings))
    else:
        versions = current_versions(settings.transcribe_options(), settings.phrasebooks_dir)
        # The model loads at the first upload, in the pool's processes: the API answers at once.
        transcriber = pool_transcriber(settings.transcribe_options(), worker_count(None, settings))
        processor = LocalProcessor(sessions, transcriber=transcriber, book=book, versions=versions)
    app = create_app(settings=settings, sessions=sessions, secret=secret, processor=processor)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        processor.stop()


def worker_app() -> FastAPI:
    """One of `callqa serve --workers N`'s processes (uvicorn calls this in each): the parent checked the
    configuration, the store and the broker, and put the signing key in the environment."""
    from api.http import create_app

    settings = get_settings()
    secret = os.environ["CALLQA_SECRET_KEY"]
    sessions = make_sessionmaker(make_engine(settings.database_url))
    return create_app(
        settings=settings, sessions=sessions, secret=secret, processor=CeleryProcessor(make_app(settings))
    )


def _secret_or_exit(settings: Settings, dev: bool) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if dev:
        warning("development mode: tokens are signed with a random key and stop working when the server stops")
        return secrets.token_urlsafe(MIN_SECRET_CHARS)
    fail(
        f"CALLQA_SECRET_KEY is not set: give it {MIN_SECRET_CHARS}+ random characters "
        "(e.g. `openssl rand -base64 48`), or pass --dev to try the server out",
        ExitCode.CONFIG,
    )


def _broker_or_exit(settings: Settings) -> Celery:
    """With CALLQA_BROKER_URL set, uploads go to the Celery workers: a broker that cannot be reached is a
    configuration problem at start, not a surprise at the first upload."""
    try:
        app = make_app(settings)
        check_broker(app)
    except BrokerError as exc:
        fail(str(exc), ExitCode.CONFIG)
    return app
