"""Alembic migrations: the only source of Accord's schema on SQLite and PostgreSQL."""
