"""Engines and migrations. SQLite gets WAL, full sync and BEGIN IMMEDIATE for writers.

pysqlite delays BEGIN until the first write, so two appenders could both read the same tree
size; a connection tagged with the `corpact_write` execution option starts its transaction
with BEGIN IMMEDIATE and so takes the database write lock up front.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from corpact.errors import InputError

DEFAULT_URL = "sqlite:///corpact.db"
DB_ENV = "CORPACT_DB"
WRITE_OPTION = "corpact_write"
MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x636F7270  # arbitrary advisory-lock key for PostgreSQL migrations


def resolve_url(url: str | None) -> str:
    return url or os.environ.get(DB_ENV) or DEFAULT_URL


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError.single(
            "database-url", f"not a database URL: {url!r}", field="--db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    if backend != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise InputError.single(
            "database-url",
            "use a SQLite file (sqlite:///path.db) or a PostgreSQL URL",
            field="--db",
        )
    engine = create_engine(parsed, connect_args={"timeout": 60})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives power loss
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def upgrade_to_head(engine: Engine) -> None:
    """Run the packaged Alembic migrations, one process at a time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
