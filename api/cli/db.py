"""`callqa db upgrade` and `callqa db current`: the store's schema (Alembic migrations shipped with callqa)."""

from __future__ import annotations

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.cli.common import settings_or_exit
from api.cli.output import ExitCode, fail, out, plain
from api.errors import ConfigError
from api.store import DatabaseState, check_revision, current_revision, head_revision, make_engine, upgrade

app = typer.Typer(no_args_is_help=True, help="The store's schema: migrations.")


@app.command("upgrade")
def upgrade_database() -> None:
    """Migrate the database (CALLQA_DATABASE_URL) to this callqa's schema; creates it when empty."""
    engine = _engine()
    try:
        if check_revision(engine) == DatabaseState.AHEAD:
            fail(f"database is at revision {current_revision(engine)}, newer than this callqa", ExitCode.CONFIG)
        upgrade(engine)
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)
    except SQLAlchemyError as exc:
        fail(f"migration failed: {' '.join(str(getattr(exc, 'orig', exc)).split())[:300]}", ExitCode.CONFIG)
    out.print(plain(f"database at revision {head_revision()} (current)"))


@app.command("current")
def current() -> None:
    """The database's schema revision and whether it matches this callqa."""
    engine = _engine()
    try:
        state = check_revision(engine)
        revision = current_revision(engine)
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)
    out.print(plain(f"{revision or 'empty'} ({state.value}; this callqa: {head_revision()})"))
    if state != DatabaseState.CURRENT:
        raise typer.Exit(ExitCode.CONFIG)


def _engine() -> Engine:
    try:
        return make_engine(settings_or_exit().database_url)
    except ConfigError as exc:
        fail(str(exc), ExitCode.CONFIG)
