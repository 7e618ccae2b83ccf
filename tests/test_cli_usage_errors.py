"""Usage errors (unknown option, missing argument, bad value, unknown command) are one `error:` line and exit 2,
for every command: Click's standalone mode would draw them as a multi-line Rich panel."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from api.cli import _run, app

ROOT = Path(__file__).resolve().parent.parent


def _command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path
        return
    for name, sub in sorted(subcommands.items()):
        yield from _command_paths(sub, (*path, name))


COMMANDS = list(_command_paths(typer.main.get_command(app)))


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_every_command_is_checked() -> None:
    assert ("batch",) in COMMANDS and ("users", "add") in COMMANDS and ("db", "upgrade") in COMMANDS
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_one_line_and_exit_2(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*path, "--no-such-option"]) == 2
    captured = capsys.readouterr()
    where = " ".join(("callqa", *path))
    assert _one_error_line(captured.err) == f"error: {where}: No such option: --no-such-option (see '{where} --help')"
    assert captured.out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "add"], "error: callqa users add: Missing argument 'name'."),
        (["score", "--workers", "many"], "error: callqa score: Invalid value for '--workers'"),
        (["no-such-command"], "error: callqa: No such command 'no-such-command'."),
    ],
)
def test_missing_and_bad_arguments_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(args) == 2
    assert _one_error_line(capsys.readouterr().err).startswith(message)


def test_a_group_without_a_command_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["users"]) == 2
    captured = capsys.readouterr()
    assert "add" in captured.out and captured.err == ""


def test_help_and_typer_exit_codes_pass_through(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["batch", "--help"]) == 0
    assert "batch" in capsys.readouterr().out
    assert _run(["score"]) == 1  # `fail(..., BAD_INPUT)`: a typer.Exit's code, not 0


def test_the_installed_entry_point_exits_2_with_one_line() -> None:
    command = [sys.executable, "-c", "from api.cli import main; main()", "batch", "--bogus"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert _one_error_line(result.stderr) == "error: callqa batch: No such option: --bogus (see 'callqa batch --help')"
