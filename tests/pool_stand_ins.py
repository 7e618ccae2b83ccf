"""Stand-in transcribers for the process pool's tests: cheap to load, and they misbehave on cue by file name.

Module-level so that `spawn` workers can import them, as they import the real `Transcriber`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from transcribe import TranscribeOptions, Transcript


class StandIn:
    """`die*` files kill their worker (`die-once*` only the first time), `slow*` take a minute, `long*` 3 seconds,
    others succeed."""

    def __init__(self, options: TranscribeOptions) -> None:
        self.options = options

    def transcribe(self, path: str | Path, hotwords: Sequence[str] = ()) -> Transcript:
        name = Path(path).name
        marker = Path(f"{path}.died")
        if name.startswith("die") and not (name.startswith("die-once") and marker.exists()):
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        if name.startswith("slow"):
            time.sleep(60)
        if name.startswith("long"):
            time.sleep(3)
        return Transcript(str(path), 1.0, 8000, 1, (), (), roles_confident=False)


def broken(options: TranscribeOptions) -> StandIn:
    raise RuntimeError("no model\nhere")
