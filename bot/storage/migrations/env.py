"""Alembic environment: migrates the connection that :meth:`bot.storage.db.Database.migrate` passes.

Run through ``Database.migrate`` (``Database.open`` does it at start), never by hand: the
connection arrives already inside a transaction and holding the migration lock. For writing a
new revision against a scratch database, ``sqlalchemy.url`` may be set on the Alembic config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("run migrations through bot.storage.db.Database.migrate")
    engine = create_engine(url)
    with engine.begin() as fresh:
        _run(fresh)
    engine.dispose()


main()
