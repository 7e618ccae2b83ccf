"""Schema migrations (Alembic, shipped inside the package so an installed wheel can migrate its database)."""

from __future__ import annotations

import enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from api.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseState(enum.Enum):
    CURRENT = "current"
    BEHIND = "behind"  # empty, or an older schema: `callqa db upgrade`
    AHEAD = "ahead"  # a revision this callqa does not know: written by a newer callqa


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    # One transaction, begun before Alembic reads the current revision: on SQLite it holds the write lock
    # (BEGIN IMMEDIATE), so two batches starting on a fresh database migrate it once.
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)


def check_revision(engine: Engine) -> DatabaseState:
    """Where the database stands against the code; raises `ConfigError` when it cannot be reached."""
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"database {engine.url.render_as_string(hide_password=True)}: cannot connect ({_reason(exc)})"
        ) from None
    if current == head_revision():
        return DatabaseState.CURRENT
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current is not None and current not in known:
        return DatabaseState.AHEAD
    return DatabaseState.BEHIND


def _reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:200]


def open_store(engine: Engine, *, auto_upgrade: bool) -> None:
    """Check the schema before use: a newer one is refused, an older one upgraded when `auto_upgrade` (the
    embedded default, which nobody else shares) or else refused with the command that upgrades it."""
    state = check_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if state == DatabaseState.AHEAD:
        raise ConfigError(
            f"database {where} is at revision {current_revision(engine)}, newer than this callqa "
            f"(which knows up to {head_revision()}): upgrade callqa"
        )
    if state == DatabaseState.BEHIND:
        if not auto_upgrade:
            raise ConfigError(
                f"database {where} needs migrating to revision {head_revision()}: run `callqa db upgrade`"
            )
        try:
            upgrade(engine)
        except SQLAlchemyError as exc:
            raise ConfigError(f"database {where}: migration failed ({_reason(exc)})") from None
