"""Accord's domain engine: recommendations as state machines, with revisions, approvals,
threads and a hash-chained audit log. Importable without Flask."""
