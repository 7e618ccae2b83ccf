"""Alembic environment: run by `api.store.migrate` with an open connection (never from an alembic.ini)."""

from __future__ import annotations

from alembic import context

from api.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead, under the same constraint names.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
