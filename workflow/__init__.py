"""Accord's domain engine: recommendations as state machines, with revisions, approvals,
threads and a hash-chained audit log. Importable without Flask."""

# Every Session is held to the rule that a change writes its audit event, from the moment the
# engine is imported (see audit_rule).
from . import audit_rule as audit_rule
