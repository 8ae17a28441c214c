"""Shared fixtures: a tiny synthetic registry (tests/ingest_helpers.py) and a ledger factory.

The ledger fixtures run on both databases: ``backend`` is ``sqlite`` (a file under ``tmp_path``)
or ``postgres`` (a fresh schema of the server named by ``SOCIALCREDIT_TEST_PG``, dropped after
the test). ``make test`` starts a local server and sets the variable; without it the postgres
cases are skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest_helpers import Tiny
from socialcredit.ledger import Ledger, open_ledger
from socialcredit.ledger.store import database_url

#: The environment variable naming the PostgreSQL server (and database) the tests may use.
PG_ENV = "SOCIALCREDIT_TEST_PG"
PG_SKIP = (
    f"PostgreSQL cases need a server: set {PG_ENV}=postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB "
    "(`make test` installs and starts one and sets it)"
)
BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    """An autocommit engine on the test server (skips when there is none)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP)
    engine = sa.create_engine(database_url(url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def _drop_schema(admin: sa.Engine, name: str) -> None:
    """End the connections a test left open on ``name`` (by application name), drop it."""
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
            {"n": name},
        )
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test's ledgers live in: ``sqlite`` or ``postgres``."""
    if request.param == "postgres" and not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP)
    return request.param


def _db_factory(
    backend: str, directory: Callable[[], Path], request: pytest.FixtureRequest
) -> Iterator[Callable[..., str | Path]]:
    schemas: list[str] = []
    admin: sa.Engine | None = request.getfixturevalue("pg_admin") if backend == "postgres" else None

    def make(name: str = "ledger.db") -> str | Path:
        if admin is None:
            return directory() / name
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        query = {"options": f"-csearch_path={schema}", "application_name": schema}
        return admin.url.update_query_dict(query).render_as_string(hide_password=False)

    yield make
    for schema in schemas:
        assert admin is not None
        _drop_schema(admin, schema)


@pytest.fixture
def make_db(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str | Path]]:
    """``make_db(name="ledger.db")``: where a fresh ledger goes (nothing is created yet).

    SQLite: ``tmp_path / name``. PostgreSQL: the URL of a new empty schema (the connection's
    ``search_path`` and application name), dropped after the test with its connections.
    """
    yield from _db_factory(backend, lambda: tmp_path, request)


@pytest.fixture
def make_pg_db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., str | Path]]:
    """``make_db`` on PostgreSQL only, for its own cases (skipped without a server)."""
    yield from _db_factory("postgres", lambda: tmp_path, request)


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> str:
    """``backend`` for module-scoped fixtures (a world shared by a module's tests)."""
    if request.param == "postgres" and not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP)
    return request.param


@pytest.fixture(scope="module")
def make_module_db(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str | Path]]:
    """``make_db`` for module-scoped fixtures: dropped after the module."""
    folder: list[Path] = []

    def directory() -> Path:
        if not folder:
            folder.append(tmp_path_factory.mktemp("db"))
        return folder[0]

    yield from _db_factory(module_backend, directory, request)


@pytest.fixture(scope="session")
def tiny() -> Tiny:
    return Tiny()


@pytest.fixture
def make_ledger(make_db: Callable[..., str | Path], tiny: Tiny) -> Iterator[Callable[..., Ledger]]:
    """``make_ledger(name="ledger.db", registry=True)``: a fresh ledger, with the tiny registry,
    on each backend."""
    opened: list[Ledger] = []

    def make(name: str = "ledger.db", *, registry: bool = True) -> Ledger:
        ledger = open_ledger(make_db(name))
        opened.append(ledger)
        if registry:
            ledger.append_registry(tiny.registry)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(make_ledger: Callable[..., Ledger]) -> Ledger:
    """A fresh ledger holding the tiny registry."""
    return make_ledger()
