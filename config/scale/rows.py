"""The rows of a generated data set, written in bulk: ids assigned here as the database would
hand them out, rows buffered and written with SQLAlchemy Core `insert()` executemany in batches,
in foreign-key order, inside the caller's one write transaction. Each row holds exactly what
the service that makes it writes (the same columns and values)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text

from accord.workflow.models import Approval, AuditEvent, Base, Comment, Revision, Thread

#: Rows per executemany; the buffers are written (in foreign-key order) when they hold this many.
BATCH = 5_000

TABLES_WITH_IDS = ("processes", "recommendations", "revisions", "threads", "comments", "approvals")

#: The buffered tables, in the order they are written (each refers only to those before it).
BUFFERED: tuple[tuple[str, type[Base]], ...] = (
    ("threads", Thread),
    ("comments", Comment),
    ("revisions", Revision),
    ("approvals", Approval),
    ("audit_events", AuditEvent),
)


class Rows:
    """The ids handed out and the rows waiting to be written; `progress` is told of each batch."""

    def __init__(self, connection: Connection, progress: Callable[[int], None]) -> None:
        self.connection, self.progress = connection, progress
        self.pg = connection.dialect.name == "postgresql"
        self.buffers: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in BUFFERED}
        self.buffered = 0
        self.next_ids = self._first_ids()

    def _first_ids(self) -> dict[str, int]:
        first = {}
        for table in TABLES_WITH_IDS:
            if self.pg:
                first[table] = self.connection.scalar(
                    text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
                )
            else:
                first[table] = (self.connection.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1
        return first

    def next_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Buffer a row; every BATCH rows, the buffers are written."""
        self.buffers[table].append(row)
        self.buffered += 1
        if self.buffered >= BATCH:
            self.flush()

    def insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Write rows of `model`'s table now (executemany), counting them as progress."""
        if rows:
            self.connection.execute(insert(model), rows)
            self.progress(len(rows))

    def flush(self) -> None:
        for name, model in BUFFERED:
            self.insert(model, self.buffers[name])
            self.buffers[name] = []
        self.buffered = 0

    def finish(self) -> None:
        """Write what is left, and move PostgreSQL's sequences past the ids handed out."""
        self.flush()
        if self.pg:
            for table, next_id in self.next_ids.items():
                self.connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :next, false)"),
                    {"next": next_id},
                )


# --- each row as its service writes it ------------------------------------------------------------


def revision_row(
    id_: int, rec_id: int, number: int, *, title: str, body: str, body_html: str, summary: str,
    author_id: int, created_at: datetime, state: str, base_number: int | None,
) -> dict[str, Any]:
    """services.recommendations._save_revision."""
    return {
        "id": id_, "recommendation_id": rec_id, "number": number, "title": title, "body": body,
        "body_html": body_html, "summary": summary, "author_id": author_id, "created_at": created_at,
        "state": state, "base_number": base_number,
    }


def approval_row(
    id_: int, rec_id: int, *, agency_id: int, decision: str, revision: int, reason: str | None,
    user_id: int, created_at: datetime,
) -> dict[str, Any]:
    """services.approvals.record_decision."""
    return {
        "id": id_, "recommendation_id": rec_id, "agency_id": agency_id, "decision": decision,
        "revision_number": revision, "reason": reason, "user_id": user_id, "created_at": created_at,
    }


def thread_row(
    id_: int, rec_id: int, *, revision: int | None, quote: str | None, created_by_id: int,
    created_at: datetime, resolved_at: datetime | None, resolved_by_id: int | None,
) -> dict[str, Any]:
    """services.threads.start_thread, with the resolution that stands at the end, if any
    (resolve_thread and reopen_thread set and clear it)."""
    return {
        "id": id_, "recommendation_id": rec_id, "revision_number": revision, "quote": quote,
        "created_by_id": created_by_id, "created_at": created_at, "resolved_at": resolved_at,
        "resolved_by_id": resolved_by_id,
    }


def comment_row(
    id_: int, thread_id: int, *, author_id: int, body: str, body_html: str, created_at: datetime
) -> dict[str, Any]:
    """services.threads.start_thread (the first comment) and add_comment."""
    return {
        "id": id_, "thread_id": thread_id, "author_id": author_id, "body": body, "body_html": body_html,
        "created_at": created_at,
    }
