"""Test databases and factories.

SQLite by default; PostgreSQL when ACCORD_TEST_DATABASE_URL names a server (the suite then makes
its own databases there and drops them at the end). Either way the schema comes from the
migrations. Most tests run inside a transaction that is rolled back afterwards (services commit
to a savepoint); tests that need real commits and real concurrent connections take
`fresh_database`, a database of their own copied from the migrated template.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from accord.migrations import schema
from accord.workflow import passwords
from accord.workflow.db import Database, make_engine

from .factories import World, build_world, load_world
from .helpers import Clock
from .property.stateful_run import chosen_run

PG_ENV = "ACCORD_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    # The production hasher costs ~50 ms a password by design; tests need hundreds of users.
    passwords.use_fast_hashing_for_tests()
    chosen_run()  # the stateful test's seed, chosen (or refused, if mistyped) before anything runs


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get(PG_ENV)
    return [
        f"accord database: {'PostgreSQL at ' + make_url(url).render_as_string() if url else 'SQLite'}",
        chosen_run().describe(),
    ]


class DatabaseServer:
    """Where test databases come from: a migrated template, copied for each test that asks."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pg_url = os.environ.get(PG_ENV)
        self.created: list[str] = []
        self.template_url = self._new_database(template=None)
        engine = make_engine(self.template_url)
        schema.upgrade(engine)
        engine.dispose()

    @property
    def dialect(self) -> str:
        return "postgresql" if self.pg_url else "sqlite"

    def _admin_engine(self) -> Engine:
        assert self.pg_url
        return create_engine(make_url(self.pg_url), isolation_level="AUTOCOMMIT")

    def _new_database(self, template: str | None) -> str:
        name = f"accord_test_{uuid.uuid4().hex[:12]}"
        if not self.pg_url:
            path = self.tmp / f"{name}.db"
            if template:
                shutil.copyfile(make_url(template).database, path)
            return f"sqlite:///{path}"
        admin = self._admin_engine()
        with admin.connect() as connection:
            suffix = f' TEMPLATE "{make_url(template).database}"' if template else ""
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
        admin.dispose()
        self.created.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def new_database(self) -> str:
        """An empty, migrated database of its own."""
        return self._new_database(template=self.template_url)

    def blank_database(self) -> str:
        """A database with no schema at all."""
        return self._new_database(template=None)

    def drop_all(self) -> None:
        if not self.pg_url:
            return
        admin = self._admin_engine()
        with admin.connect() as connection:
            for name in self.created:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseServer]:
    server = DatabaseServer(tmp_path_factory.mktemp("databases"))
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def shared_database(database_server: DatabaseServer) -> Iterator[Database]:
    database = Database(database_server.new_database())
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def database_with_world(database_server: DatabaseServer) -> Iterator[Database]:
    """A database with the test world committed once for the whole run, for the tests that
    take `world`: building it costs more than most tests, and each test's own transaction is
    rolled back as on `shared_database`, so every test still starts from the same world."""
    database = Database(database_server.new_database())
    with database.write() as session:
        build_world(session)
    yield database
    database.dispose()


@pytest.fixture
def connection(request: pytest.FixtureRequest, shared_database: Database) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test: on the database
    with the world already in it when the test takes `world`, else on an empty one."""
    database = request.getfixturevalue("database_with_world") if "world" in request.fixturenames else shared_database
    with database.engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session for one test: its commits go to savepoints, all undone at the end."""
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


class ConnectionDatabase(Database):
    """The test's own connection as a `Database`: each transaction the application opens is
    a savepoint on it, so everything an HTTP request commits is undone after the test."""

    def __init__(self, connection: Connection) -> None:
        self.engine = connection.engine
        self._writer = self._reader = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )


@pytest.fixture
def connection_database(connection: Connection) -> ConnectionDatabase:
    return ConnectionDatabase(connection)


@pytest.fixture
def app(connection_database: ConnectionDatabase, tmp_path: Path):
    """The application on this test's connection (API and pages alike)."""
    from accord.config.settings import Settings
    from accord.web import create_app

    return create_app(
        Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)}),
        database=connection_database,
        TESTING=True,
    )


@pytest.fixture
def world(session: Session) -> World:
    """Agencies, a process and users in every role and relation (see tests/factories.py),
    read in this test's session from `database_with_world`."""
    return load_world(session)


@pytest.fixture
def fresh_database(database_server: DatabaseServer) -> Iterator[Database]:
    """A migrated database of this test's own, for real commits and concurrent connections."""
    database = Database(database_server.new_database())
    yield database
    database.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Signing in's time, standing still until the test moves it (`clock.advance(seconds)`)."""
    return Clock(monkeypatch)


@pytest.fixture
def dialect(database_server: DatabaseServer) -> str:
    return database_server.dialect


def execute_raw(database: Database, sql: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(sql))
