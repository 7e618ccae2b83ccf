"""`callqa worker`: a Celery worker taking the calls that `callqa batch --distributed` enqueued."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import phrasebook_or_exit, settings_or_exit, store_or_exit
from api.cli.output import ExitCode, fail
from api.config import MAX_WORKERS
from api.errors import ConfigError
from api.worker import default_workers


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_WORKERS, help="processes (default: one per core; with --gpu one per GPU)"),
    ] = None,
    gpu: Annotated[bool, typer.Option("--gpu", help="transcribe on CUDA, one process per GPU")] = False,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = "INFO",
) -> None:
    """Start a Celery worker (CALLQA_BROKER_URL) that processes queued calls into the store, each once."""
    from api.worker.celery_app import check_broker, make_app, run_worker  # celery only for the commands using it

    settings = settings_or_exit()
    phrasebook_or_exit()
    store_or_exit()  # a database this callqa cannot use stops here, not in every task
    try:
        app = make_app(settings)
        check_broker(app)
        count = concurrency or (_gpus() if gpu else default_workers())
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)
    run_worker(app, concurrency=count, gpu=gpu, loglevel=loglevel.upper())


def _gpus() -> int:
    import ctranslate2

    count = int(ctranslate2.get_cuda_device_count())
    if count == 0:
        raise ConfigError("--gpu: no CUDA device found")
    return count
