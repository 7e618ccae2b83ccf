"""`callqa` command line. Every failure is one line on stderr and an exit code (`output.ExitCode`), never a
traceback; each command group lives in its own module and is registered here."""

from __future__ import annotations

import os
import sys

import typer

from api.cli import audit, batch, calls, db, rules, score, serve, transcribe, users, worker

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Quality checks for recorded service calls.")
app.command("transcribe")(transcribe.transcribe_files)
app.command("score")(score.score_files)
app.command("eval")(score.evaluate_directory)
app.command("batch")(batch.batch)
app.command("worker")(worker.worker)
app.add_typer(calls.app, name="calls")
app.add_typer(db.app, name="db")
app.add_typer(rules.app, name="rules")
app.command("serve")(serve.serve)
app.add_typer(users.app, name="users")
app.add_typer(users.keys, name="apikeys")
app.add_typer(audit.app, name="audit")


@app.callback()
def _root() -> None:
    """Quality checks for recorded service calls."""


def main() -> None:
    if sys.stdout is None:  # started with stdout closed (`callqa … >&-`): results would vanish
        sys.stderr.write("error: standard output is closed; nothing was processed\n")
        raise SystemExit(2)
    try:
        app()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other Unix tools do; Python would otherwise complain
        # again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
