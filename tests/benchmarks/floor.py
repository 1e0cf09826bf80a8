"""The floor of the benchmark runner: a bare Flask + SQLAlchemy endpoint that selects one row
by primary key and renders a tiny template, served like Accord (gunicorn, same workers and
threads), on the same database through the same engine setup (`workflow.db.Database`: WAL,
busy timeout, one read transaction per request). Whatever Accord spends beyond this is its own.

    ACCORD_DATABASE_URL=… gunicorn -w 2 --threads 4 tests.benchmarks.floor:app

Its table, `bench_floor`, is made by `create_table` (the benchmark runner calls it); it lives
beside Accord's tables in the benchmark's database and is no part of Accord's schema.
"""

from __future__ import annotations

import os

from flask import Flask, abort, render_template_string
from sqlalchemy import Integer, MetaData, String, Text, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from accord.workflow import audit_rule
from accord.workflow.db import Database

ROWS = 1000

TEMPLATE = """<!doctype html>
<title>{{ row.title }}</title>
<h1>{{ row.title }}</h1>
<p>{{ row.body }}</p>
"""


class Base(DeclarativeBase):
    metadata = MetaData()


class FloorRow(Base):
    __tablename__ = "bench_floor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


def create_table(database: Database) -> None:
    """The floor's table with ROWS rows (once; a second call changes nothing)."""
    Base.metadata.create_all(database.engine)
    with database.write() as session:
        # No use case of Accord's, so no audit event: said so, or the audit rule refuses it.
        audit_rule.exempt(session, "the benchmark floor's own table, no part of Accord's data")
        if session.scalar(select(FloorRow.id).limit(1)) is None:
            session.execute(insert(FloorRow), [
                {"id": n, "title": f"Row {n}", "body": f"The body of row {n}, a short paragraph."}
                for n in range(1, ROWS + 1)
            ])


def create_app(database_url: str) -> Flask:
    app = Flask(__name__)
    database = Database(database_url)

    @app.get("/floor/<int:row_id>")
    def row(row_id: int) -> str:
        with database.read() as session:
            found = session.get(FloorRow, row_id)
            if found is None:
                abort(404)
            return render_template_string(TEMPLATE, row=found)

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


if "ACCORD_DATABASE_URL" in os.environ:  # imported by gunicorn
    app = create_app(os.environ["ACCORD_DATABASE_URL"])
