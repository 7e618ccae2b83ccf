"""`callqa audit verify`: walk the hash chain of the audit trail and name every event that was tampered with."""

from __future__ import annotations

import typer

from api.cli.common import store_or_exit
from api.cli.output import ExitCode, error, out, plain
from api.services.audit import verify_chain

app = typer.Typer(no_args_is_help=True, help="The audit trail.")


@app.command("verify")
def verify() -> None:
    """Exit 0 when the chain is intact, 1 naming each edited, inserted or deleted event."""
    sessions = store_or_exit()
    with sessions() as session:
        count, problems = verify_chain(session)
    for problem in problems:
        error(str(problem))
    if problems:
        raise typer.Exit(ExitCode.BAD_INPUT)
    out.print(plain(f"audit trail intact: {count} events"))
