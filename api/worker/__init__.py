"""Where transcription runs: the local process pool (and, later, the Celery tasks)."""

from api.worker.pool import Outcome, TranscriberPool, default_workers

__all__ = ["Outcome", "TranscriberPool", "default_workers"]
