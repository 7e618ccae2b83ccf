"""The local process pool: one file's failure, of whatever kind (a worker's death included), is that file's line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from api.config import MAX_WORKERS, Settings
from api.worker import TranscriberPool
from api.worker.pool import _attempt
from tests.pool_stand_ins import StandIn, broken
from transcribe import AudioError, ModelError, TranscribeOptions, Transcript

ROOT = Path(__file__).resolve().parent.parent


class _Broken:
    def transcribe(self, path: Path, hotwords: tuple[str, ...] = ()) -> None:
        raise KeyError("channel\nlayout")


def _workers(process: psutil.Process) -> list[psutil.Process]:
    """Worker processes only: spawn also starts multiprocessing's resource tracker, which is no worker."""
    return [child for child in process.children() if "spawn_main" in " ".join(child.cmdline())]


def test_an_unexpected_failure_on_one_file_becomes_its_one_line_error() -> None:
    outcome = _attempt(_Broken(), Path("calls/a.wav"), ())  # type: ignore[arg-type]
    assert isinstance(outcome, AudioError)
    assert str(outcome) == "calls/a.wav: unexpected error, please report it: KeyError: 'channel\\nlayout'"


def test_a_dead_worker_costs_only_its_file_which_is_retried_once(tmp_path: Path) -> None:
    names = ["a", "die-once-b", "c", "die-d", "e", "f"]
    start = time.monotonic()
    with TranscriberPool(TranscribeOptions(), workers=2, load=StandIn) as pool:
        results = [(path.name, outcome) for path, outcome in pool.transcribe([tmp_path / n for n in names])]
    assert time.monotonic() - start < 60
    assert [name for name, _ in results] == names  # input order
    errors = {name: str(outcome) for name, outcome in results if not isinstance(outcome, Transcript)}
    assert errors == {"die-d": f"{tmp_path / 'die-d'}: transcription worker died (killed by signal 9); retried once"}
    assert _workers(psutil.Process()) == []


def test_a_long_call_does_not_idle_the_other_workers_when_order_does_not_matter(tmp_path: Path) -> None:
    names = ["long-a", *(f"b{i}" for i in range(12))]
    with TranscriberPool(TranscribeOptions(), workers=2, load=StandIn) as pool:
        start = time.monotonic()
        first_short = []  # seconds after the start at which each short file came back
        for path, outcome in pool.transcribe([tmp_path / n for n in names], in_order=False):
            assert isinstance(outcome, Transcript), outcome
            if path.name != "long-a":
                first_short.append(time.monotonic() - start)
            else:
                long_done = time.monotonic() - start
        order = [path.name for path, _ in pool.transcribe([tmp_path / n for n in names[:4]])]
    # in input order only 2 × workers files may wait: the others would come back after the long one, at 3 s
    assert len(first_short) == 12 and max(first_short) < long_done
    assert order == names[:4]  # the default is input order


def test_a_worker_that_died_while_idle_is_replaced_and_costs_no_file(tmp_path: Path) -> None:
    names = ["a", "die-once-b", "c", "d"]
    with TranscriberPool(TranscribeOptions(), workers=2, load=StandIn) as pool:
        for worker in _workers(psutil.Process()):
            worker.kill()
            worker.wait(10)
        results = [outcome for _, outcome in pool.transcribe([tmp_path / n for n in names])]
    assert all(isinstance(outcome, Transcript) for outcome in results), results


def test_the_pool_runs_outside_the_main_thread_too(tmp_path: Path) -> None:
    """A server runs it in a worker thread, where no signal handler may be set."""
    with ThreadPoolExecutor(1) as thread:
        results = thread.submit(_run_stand_ins, [tmp_path / "a", tmp_path / "die-once-b"]).result(timeout=60)
    assert all(isinstance(outcome, Transcript) for outcome in results), results


def _run_stand_ins(paths: list[Path]) -> list[object]:
    with TranscriberPool(TranscribeOptions(), workers=2, load=StandIn) as pool:
        return [outcome for _, outcome in pool.transcribe(paths)]


def test_a_model_that_cannot_load_is_one_model_error_not_a_respawn_loop() -> None:
    start = time.monotonic()
    with pytest.raises(ModelError, match=r"^transcription worker failed to start: RuntimeError: no model here$"):
        TranscriberPool(TranscribeOptions(), workers=2, load=broken).__enter__()
    assert time.monotonic() - start < 60
    assert _workers(psutil.Process()) == []


def test_a_file_over_the_time_limit_is_stopped_and_the_others_complete(tmp_path: Path) -> None:
    with TranscriberPool(TranscribeOptions(), workers=1, timeout_s=2, load=StandIn) as pool:
        assert pool._pool, "a time limit needs a worker process, even for one worker"
        results = dict(pool.transcribe([tmp_path / "a", tmp_path / "slow-b", tmp_path / "c"]))
    assert (
        str(results[tmp_path / "slow-b"])
        == f"{tmp_path / 'slow-b'}: transcription took longer than 2 s and was stopped"
    )
    assert isinstance(results[tmp_path / "a"], Transcript) and isinstance(results[tmp_path / "c"], Transcript)


_RUN_SLOW_FILES = """
from pathlib import Path
from api.worker import TranscriberPool
from tests.pool_stand_ins import StandIn
from transcribe import TranscribeOptions
if __name__ == "__main__":
    with TranscriberPool(TranscribeOptions(), workers=2, load=StandIn) as pool:
        print("ready", flush=True)
        for path, outcome in pool.transcribe([Path("slow-a"), Path("slow-b"), Path("c")]):
            print(path, flush=True)
"""


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_main_process_stops_its_workers_quietly(tmp_path: Path, number: signal.Signals) -> None:
    script = tmp_path / "run.py"
    script.write_text(_RUN_SLOW_FILES, encoding="utf-8")
    command = [sys.executable, str(script)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}  # the script imports the tests' stand-ins
    with subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as main:
        try:
            assert main.stdout is not None and main.stdout.readline() == "ready\n"
            workers = _workers(psutil.Process(main.pid))
            assert len(workers) == 2
            time.sleep(0.5)  # both busy with their minute-long files
            main.send_signal(number)
            _, stderr = main.communicate(timeout=30)
        finally:
            main.kill()
    assert main.returncode == 128 + number
    assert stderr == ""
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []


def test_workers_are_bounded_in_the_configuration() -> None:
    assert Settings(workers=MAX_WORKERS).workers == MAX_WORKERS
    for wrong in (-5, MAX_WORKERS + 1, 1000):
        with pytest.raises(ValueError, match="workers"):
            Settings(workers=wrong)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--workers", "-5"], {}, "Invalid value for '--workers'"),
        (["--workers", str(MAX_WORKERS + 1)], {}, "Invalid value for '--workers'"),
        ([], {"CALLQA_WORKERS": "1000"}, f"CALLQA_WORKERS: Input should be less than or equal to {MAX_WORKERS}"),
    ],
)
def test_out_of_range_workers_are_refused_before_any_model_loads(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    command = [sys.executable, "-c", "from api.cli import main; main()", "score", str(tmp_path / "a.mp3"), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200", **env}, timeout=60, cwd=ROOT
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


_SAMPLES = sorted((ROOT / "samples").glob("*.mp3"))[:4]


def _score_in_background() -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from api.cli import main; main()", "score", *map(str, _SAMPLES), "--json"]
    return subprocess.Popen(
        [*command, "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_killing_a_busy_worker_costs_no_file_and_no_hang() -> None:
    with _score_in_background() as main:
        try:
            assert main.stdout is not None
            first = main.stdout.readline()  # one file done: both workers now hold one of the next files
            victim = _workers(psutil.Process(main.pid))[0]
            victim.kill()
            rest, stderr = main.communicate(timeout=300)
        finally:
            main.kill()
    assert main.returncode == 0, stderr
    assert stderr == ""
    lines = [first, *rest.splitlines()]
    assert len(lines) == len(_SAMPLES)  # the killed worker's file was tried again on a fresh worker


@pytest.mark.slow
def test_sigterm_stops_the_whole_run_at_once() -> None:
    with _score_in_background() as main:
        try:
            assert main.stdout is not None
            main.stdout.readline()
            workers = _workers(psutil.Process(main.pid))
            main.terminate()
            _, stderr = main.communicate(timeout=30)
        finally:
            main.kill()
    assert main.returncode == 128 + signal.SIGTERM
    assert stderr == ""
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
