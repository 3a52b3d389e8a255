"""The `database_url` fixture: one empty database per test, on SQLite and on PostgreSQL.

PostgreSQL comes from CORPACT_TEST_POSTGRES_URL (default: 127.0.0.1:5432, database `test`).
When CORPACT_REQUIRE_POSTGRES=1 (as in CI) an unreachable server fails the test loudly;
otherwise the PostgreSQL variant is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("CORPACT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_required() -> bool:
    return os.environ.get("CORPACT_REQUIRE_POSTGRES") == "1"


def _libpq(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database() -> str:
    """Create a fresh database and return its SQLAlchemy URL."""
    admin = postgres_admin_url()
    name = f"corpact_t_{uuid.uuid4().hex[:16]}"
    try:
        with psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as err:
        if postgres_required():
            pytest.fail(
                f"PostgreSQL is required (CORPACT_REQUIRE_POSTGRES=1) but unreachable: {err}"
            )
        pytest.skip(f"PostgreSQL not reachable at {admin}: {err}")
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(postgres_admin_url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'corpact.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)
