"""The schema comes from the migrations alone, and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from accord.migrations import schema
from accord.workflow.db import make_engine
from accord.workflow.models import Base


def test_models_and_migrations_do_not_drift(database_server):
    engine = make_engine(database_server.new_database())
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_upgrade_creates_a_blank_database_and_is_idempotent(database_server):
    engine = make_engine(database_server.blank_database())
    assert schema.current_revision(engine) is None
    assert schema.upgrade(engine) is True
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.upgrade(engine) is False
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_downgrade_to_nothing_and_back(database_server):
    engine = make_engine(database_server.new_database())
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()


def test_every_constraint_is_named(database_server):
    engine = make_engine(database_server.new_database())
    inspector = inspect(engine)
    for table in Base.metadata.tables:
        for fk in inspector.get_foreign_keys(table):
            assert fk["name"], f"unnamed foreign key on {table}"
        for unique in inspector.get_unique_constraints(table):
            assert unique["name"], f"unnamed unique constraint on {table}"
        assert inspector.get_pk_constraint(table)["name"] or engine.dialect.name == "sqlite"
    engine.dispose()


def test_an_older_database_with_data_is_migrated(database_server):
    """A database at the first revision, with a demo's worth of data, upgrades to head and
    keeps its data and its audit chain."""
    from sqlalchemy import text

    from accord.workflow import audit
    from accord.workflow.db import Database

    first = "e9a96bdc91a4"
    database = Database(database_server.blank_database())
    schema.upgrade(database.engine, first)
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO agencies (code, name, country, kind) VALUES ('KZ-BS', 'Border Service', 'Kazakhstan', 'national')"
        ))
    assert schema.upgrade(database.engine) is True
    assert schema.current_revision(database.engine) == schema.head_revision()
    with database.read() as session:
        assert session.execute(text("SELECT code FROM agencies")).scalar() == "KZ-BS"
        assert audit.verify_chain(session).ok
    database.dispose()
