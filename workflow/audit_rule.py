"""Every change writes an audit event, by construction.

A write transaction that changes a row of Accord's data and appends no audit event is refused at
commit (`UnauditedChange`, and the transaction is rolled back) in development and tests, and
logged as an error in production, where the change has been checked and answered for already.
The kept answers (`web.answer_cache`) and the audit trail's completeness both rest on the rule.

How it is held: every statement that writes (INSERT, UPDATE, DELETE, as SQL reaches the driver:
ORM flushes, Core statements on `session.connection()` and `text()` alike) notes its table
against the Session whose transaction runs on that connection; at the commit of the Session's
transaction (after its last flush) the tables written are weighed. The listeners are on the
Session and Engine classes, so every Session is held to it: the application's, the bulk
generator's (`accord demo --scale` writes its events with its rows), and every test's.

Not Sessions, so not held: Alembic's migrations, which change the schema and `alembic_version`
(a data migration would write its own events, or call `exempt` with its reason), and the raw
connections of an operator or of a test that tampers with the chain on purpose. Changes to
`audit_events` other than appends are refused by the database's triggers.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("accord.audit")

AUDIT_TABLE = "audit_events"

#: Tables written without an event of their own, each with the reason. None of them is ever
#: read by a page whose answer is kept (tests/pages/test_answer_cache.py holds that).
EXEMPT_TABLES: Mapping[str, str] = {
    "sign_in_failures": "sign-in bookkeeping: failed attempts, counted to slow down guessing, "
    "cleared by a success and deleted once expired",
    "api_tokens": "sessions and API tokens: a token's last use is noted as it is used, and those "
    "expired or revoked are deleted by later sign-ins (starting and ending one writes its own "
    "event, ending all of a user's is part of the change that ends them)",
    "alembic_version": "the schema's revision, written by migrations",
}

#: The key under which a Session's `info` says whether to refuse (True, the default) or log.
STRICT = "accord.audit_rule.strict"

_WATCH = "accord.audit_rule.watch"

#: The start of a statement that writes, and the table it writes: SQLAlchemy writes every
#: INSERT, UPDATE and DELETE this way (a WITH … INSERT is not recognised; Accord writes none).
_WRITE = re.compile(
    r'\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:"?\w+"?\.)?"?(\w+)', re.IGNORECASE
)


class UnauditedChange(RuntimeError):
    """A transaction changed Accord's data without appending an audit event."""


@dataclass(eq=False)
class _Watch:
    """What one Session transaction has written so far."""

    tables: set[str] = field(default_factory=set)
    appended: bool = False
    exempt: str | None = None
    connections: list[Connection] = field(default_factory=list)


#: Per connection, the watches of the Session transactions running on it, innermost last (a
#: test's sessions may nest on one connection, each in a savepoint).
_WATCHES: weakref.WeakKeyDictionary[Connection, list[_Watch]] = weakref.WeakKeyDictionary()


def _watch(session: Session) -> _Watch:
    watch = session.info.get(_WATCH)
    if watch is None:
        watch = session.info[_WATCH] = _Watch()
    return watch


def exempt(session: Session, reason: str) -> None:
    """Let the Session's current transaction change data without an audit event, for `reason`
    (logged): for bulk paths that are no use case, such as a benchmark's own table."""
    _watch(session).exempt = reason


def written_table(statement: str) -> tuple[str, str] | None:
    """("insert", "update" or "delete", the table) of a statement that writes; else None."""
    written = _WRITE.match(statement)
    if written is None:
        return None
    return written.group(1)[:6].lower(), written.group(2).lower()


@event.listens_for(Session, "after_begin")
def _begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    watch = _watch(session)
    watches = _WATCHES.setdefault(connection, [])
    if watch not in watches:
        watches.append(watch)
        watch.connections.append(connection)


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    watches = _WATCHES.get(connection)
    if not watches:
        return
    written = written_table(statement)
    if written is None:
        return
    verb, table = written
    if table == AUDIT_TABLE:
        watches[-1].appended = watches[-1].appended or verb == "insert"
    elif table not in EXEMPT_TABLES:
        watches[-1].tables.add(table)


@event.listens_for(Session, "before_commit")
def _check(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint inside the transaction: the whole is weighed at its commit
    session.flush()  # what the commit would flush is part of the transaction
    watch = session.info.get(_WATCH)
    if watch is None or not watch.tables or watch.appended:
        return
    tables = ", ".join(sorted(watch.tables))
    if watch.exempt:
        log.debug("Changes to %s without an audit event, as exempt: %s", tables, watch.exempt)
        return
    message = f"This transaction changed {tables} and appended no audit event."
    if session.info.get(STRICT, True):
        raise UnauditedChange(message)
    log.error("%s Every change must write its audit event; kept answers may be stale.", message)


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    watch = session.info.pop(_WATCH, None)
    if watch is None:
        return
    for connection in watch.connections:
        watches = _WATCHES.get(connection)
        if watches and watch in watches:
            watches.remove(watch)
