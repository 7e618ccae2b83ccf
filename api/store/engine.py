"""Connecting to the store: an embedded SQLite file by default, PostgreSQL (psycopg 3) in production."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from api.errors import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 30_000  # another batch's transaction is a few milliseconds; a slow disk, seconds


def make_engine(url: str) -> Engine:
    """An engine for `url`; raises `ConfigError` for a URL callqa cannot use."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "CALLQA_DATABASE_URL: not a database URL (e.g. sqlite:///PATH or postgresql+psycopg://…)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":  # plain postgresql:// would ask for psycopg2, which is not installed
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(f"CALLQA_DATABASE_URL: {backend} is not supported; use sqlite:///PATH or postgresql+psycopg://")


class DatabaseClock:
    """How long the store's transactions were open, summed: the database's cost in a batch's wall time (the
    transcription itself never runs inside a transaction)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.seconds = 0.0
        self._open: dict[SessionTransaction, float] = {}
        self._lock = threading.Lock()  # the claim heartbeat uses the store from another thread
        event.listen(sessions, "after_begin", self._begin)
        event.listen(sessions, "after_transaction_end", self._end)

    def _begin(self, session: Session, transaction: SessionTransaction, connection: Any) -> None:
        with self._lock:
            self._open.setdefault(transaction, time.perf_counter())

    def _end(self, session: Session, transaction: SessionTransaction) -> None:
        with self._lock:
            started = self._open.pop(transaction, None)
            if started is not None:
                self.seconds += time.perf_counter() - started


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: results handed back from a service stay readable after its transaction.
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"CALLQA_DATABASE_URL: cannot create the folder of {database} ({exc.strerror})") from None
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # The driver's own transaction handling is off: `_sqlite_begin` starts each transaction itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers never wait for the batch's writes
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")  # WAL keeps the database intact on a crash; fsync per checkpoint
    cursor.close()


READ_ONLY = "callqa_read_only"  # an execution option: this connection's transactions only read


def read_only(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on the same store (and pool) whose transactions only read: on SQLite they begin DEFERRED, so they
    never wait for the write lock (WAL readers see the last commit)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        return sessions
    return sessionmaker(bind.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def _sqlite_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, waiting up to busy_timeout for it. A deferred transaction that
    # reads and then writes fails at once with "database is locked" when another writer committed in between,
    # which busy_timeout cannot cure; two batches at once would then fail each other's calls.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")  # a read: no write lock to wait for
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")
