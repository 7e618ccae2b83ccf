"""`callqa` command line. Every failure is one line on stderr and an exit code (`output.ExitCode`), never a
traceback; each command group lives in its own module and is registered here."""

from __future__ import annotations

import os
import sys

import typer

# Typer carries its own copy of Click (not the `click` package) and re-exports none of these.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from api.cli import audit, batch, calls, db, rules, score, serve, transcribe, users, worker
from api.cli.output import ExitCode, error

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
        code = _run()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other Unix tools do; Python would otherwise complain
        # again while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    raise SystemExit(code)


def _run(args: list[str] | None = None) -> int:
    """Run the command; a usage error (unknown option, missing or bad argument) is one `error:` line and exit 2.
    Click's standalone mode would print it as a boxed, multi-line Rich panel, so Click runs without it here."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args, prog_name="callqa", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `callqa users` alone: the help is the answer
        if exc.format_message():  # Typer's Rich help is printed while the exception is built, leaving it empty
            exc.show()
        return int(ExitCode.CONFIG)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "callqa"
        error(f"{where}: {exc.format_message()} (see '{where} --help')")
        return int(ExitCode.CONFIG)
    except ClickException as exc:
        error(exc.format_message())
        return exc.exit_code
    except typer.Abort:  # Ctrl+C or end of input at a prompt
        error("aborted")
        return 1
    # Without standalone mode Click returns what the command returned, or the code of a `typer.Exit`.
    return result if isinstance(result, int) else 0
