"""The store of record: engine and sessions, typed models, Alembic migrations."""

from api.store.engine import DatabaseClock, make_engine, make_sessionmaker
from api.store.migrate import DatabaseState, check_revision, current_revision, head_revision, open_store, upgrade

__all__ = [
    "DatabaseClock",
    "DatabaseState",
    "check_revision",
    "current_revision",
    "head_revision",
    "make_engine",
    "make_sessionmaker",
    "open_store",
    "upgrade",
]
