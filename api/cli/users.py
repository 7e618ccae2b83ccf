"""`callqa users add|list|disable` and `callqa apikeys create`: the review service's accounts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import store_or_exit
from api.cli.output import ExitCode, fail, out, plain
from api.errors import BadInput, Conflict, NotFound
from api.services.users import add_user, create_api_key, disable_user, list_users
from api.store.models import UserRole

app = typer.Typer(no_args_is_help=True, help="Users of the review service.")
keys = typer.Typer(no_args_is_help=True, help="API keys for machines (X-API-Key).")


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[UserRole, typer.Option(help="what the user may do")],
    agent_id: Annotated[str | None, typer.Option(help="the agent id on this person's calls (agents)")] = None,
    branch: Annotated[list[str] | None, typer.Option(help="limit to a branch (repeat for several)")] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the password as one line of stdin")] = False,
    no_password: Annotated[bool, typer.Option(help="API keys only, no password login")] = False,
) -> None:
    """Add a user; the password is asked for (or read from stdin), never given on the command line."""
    password = None if no_password else _password(password_stdin)
    sessions = store_or_exit()
    try:
        with sessions.begin() as session:
            user = add_user(session, name=name, role=role, password=password, agent_id=agent_id, branches=branch or [])
    except (BadInput, Conflict) as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    out.print(plain(f"user {user.name} ({user.role}) added, id {user.id}"))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@app.command("list")
def list_command() -> None:
    """Every user: role, agent id, branches, and whether disabled."""
    sessions = store_or_exit()
    with sessions() as session:
        users = list_users(session)
    table = Table(title=f"Users ({len(users)})")
    for column in ("id", "name", "role", "agent id", "branches", "disabled"):
        table.add_column(column)
    for user in users:
        table.add_row(
            str(user.id),
            plain(user.name),
            str(user.role),
            plain(user.agent_id or "—"),
            plain(", ".join(user.branches) or "all"),
            "yes" if user.disabled else "",
        )
    out.print(table)


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Disable a user: their tokens and API keys stop working at once (kept for the audit trail)."""
    sessions = store_or_exit()
    try:
        with sessions.begin() as session:
            disable_user(session, name=name)
    except NotFound as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    out.print(plain(f"user {name} disabled"))


@keys.command("create")
def create_key(
    user: Annotated[str, typer.Option(help="the user the key acts as")],
    label: Annotated[str, typer.Option(help="what the key is for")] = "",
) -> None:
    """Create an API key; it is shown once and only its hash is stored."""
    sessions = store_or_exit()
    try:
        with sessions.begin() as session:
            key = create_api_key(session, user_name=user, label=label)
    except NotFound as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    out.print(key.key)
