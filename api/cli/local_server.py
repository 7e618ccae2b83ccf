"""`callqa serve` as a child process on a free port of this machine, for what needs a real server to talk to: the
server's and the browser tests, and the screenshots (docs/screenshots.py). Not a command; it lives in the package
because both can import it from here (tests/ is not installed and docs/screenshots.py runs as a script), and it
needs nothing beyond the standard library, so the product gains no dependency."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

CALLQA = str(Path(sys.executable).parent / "callqa")


class ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_server(
    env: Mapping[str, str], log: Path, *, args: Sequence[str] = (), start_seconds: float = 30
) -> Iterator[str]:
    """Start `callqa serve [args]` with `env`, its output to `log`; yield its base URL once /healthz answers, and
    stop it on leaving. ServerDidNotStart, with the end of the log, when it exits or does not answer in time."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen([CALLQA, "serve", "--port", str(port), *args], env=env, stdout=output, stderr=output)
        try:
            _wait_until_healthy(process, port, log, start_seconds)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_healthy(process: subprocess.Popen[bytes], port: int, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        if _healthy(port):
            return
        time.sleep(0.1)
    why = f"exited with code {process.returncode}" if process.returncode is not None else f"no answer in {seconds} s"
    raise ServerDidNotStart(f"callqa serve did not start ({why}): {log.read_text()[-3000:]}")


def _healthy(port: int) -> bool:
    # http.client, not urllib: a proxy set in the environment must not stand between us and 127.0.0.1.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):  # not listening yet, or closed on us while starting
        return False
    finally:
        connection.close()
