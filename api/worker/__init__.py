"""Where transcription runs: the local process pool (and, beyond one machine, Celery tasks)."""

from api.worker.pool import TranscriberPool, default_workers

__all__ = ["TranscriberPool", "default_workers"]
