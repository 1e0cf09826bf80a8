"""Engines and transactions.

Sessions live outside the services: a caller opens one transaction (`Database.write()` or
`Database.read()`), calls one service, and the transaction commits or rolls back as a whole.

SQLite: write transactions start with BEGIN IMMEDIATE. A plain (deferred) BEGIN that reads and
then writes fails at once with "database is locked" when another writer got in between; taking
the write lock up front makes writers queue behind the busy timeout instead. Reads keep a
deferred BEGIN so they never wait for writers (WAL lets them read alongside).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from . import audit_rule

#: How long a SQLite writer waits for the write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000

#: How long opening a PostgreSQL connection may take (unless the URL says otherwise).
POSTGRESQL_CONNECT_TIMEOUT_S = 10

_WRITE = "accord_write"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine, in_memory=url.database in (None, "", ":memory:"))
        return engine
    if "connect_timeout" not in url.query:
        # A database host that drops packets must not hold requests for the TCP timeout.
        kwargs.setdefault("connect_args", {"connect_timeout": POSTGRESQL_CONNECT_TIMEOUT_S})
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it is acknowledged. (NORMAL would only sync at
            # checkpoints, so a power cut could take back decisions already answered with 2xx.)
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # REPLACE deletes the old row; with recursive triggers the delete triggers see it.
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def refresh_statistics(engine: Engine) -> None:
    """After a bulk load on PostgreSQL, fresh planner statistics, as autovacuum would gather in
    time (a server may run without it): without them a ten-row lookup is planned as if it
    returned thousands. SQLite keeps none unless asked, and Accord never asks."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


class Database:
    """One database: its engine and the two kinds of transaction the application opens.

    A write transaction that changes data without an audit event is refused at commit; with
    `strict_audit=False` (production) it is logged as an error instead (see `audit_rule`).
    """

    def __init__(self, url: str | URL, *, strict_audit: bool = True, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._writer = sessionmaker(
            bind=self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False,
            info={audit_rule.STRICT: strict_audit},
        )
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def url(self) -> URL:
        return self.engine.url

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits if the block succeeds, rolls back if it raises."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction; anything written in it is discarded.

        Closing (not rolling back) ends it, so the objects read stay usable afterwards with
        what was loaded, as the objects of a committed write transaction do.
        """
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
