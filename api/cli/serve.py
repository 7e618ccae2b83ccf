"""`callqa serve`: the review service (FastAPI on uvicorn)."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from celery import Celery

from api.cli.common import phrasebook_or_exit, settings_or_exit, store_or_exit, worker_count
from api.cli.output import ExitCode, fail, warning
from api.config import MIN_SECRET_CHARS, Settings
from api.services.versions import current_versions
from api.worker.celery_app import BrokerError, CeleryProcessor, check_broker, make_app
from api.worker.local import LocalProcessor, pool_transcriber


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    dev: Annotated[
        bool, typer.Option(help="without CALLQA_SECRET_KEY, sign tokens with a throwaway key (dies with the process)")
    ] = False,
) -> None:
    """Serve the review API (OpenAPI at /docs)."""
    import uvicorn

    from api.http import create_app

    settings = settings_or_exit()
    if settings.secret_key is not None:
        secret = settings.secret_key.get_secret_value()
    elif dev:
        warning("development mode: tokens are signed with a random key and stop working when the server stops")
        secret = secrets.token_urlsafe(MIN_SECRET_CHARS)
    else:
        fail(
            f"CALLQA_SECRET_KEY is not set: give it {MIN_SECRET_CHARS}+ random characters "
            "(e.g. `openssl rand -base64 48`), or pass --dev to try the server out",
            ExitCode.CONFIG,
        )
    sessions = store_or_exit()
    book = phrasebook_or_exit()
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


def _broker_or_exit(settings: Settings) -> Celery:
    """With CALLQA_BROKER_URL set, uploads go to the Celery workers: a broker that cannot be reached is a
    configuration problem at start, not a surprise at the first upload."""
    try:
        app = make_app(settings)
        check_broker(app)
    except BrokerError as exc:
        fail(str(exc), ExitCode.CONFIG)
    return app
