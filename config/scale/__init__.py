"""A large, realistic data set on top of the demo: `accord demo --scale N`.

One home per concern:

- `world`: who is who (the demo's agencies, people and process) and the rule of where a data
  set may be loaded (`refusal`);
- `texts`: the words, and how a text evolves revision by revision;
- `plan`: the life of every recommendation as the sequence of use cases the services would run,
  each allowed by the policy at that point;
- `load`: the plan written in bulk, inside the caller's one write transaction, with exactly
  what the services would have written, by way of `rows` (ids, batches, each table's row) and
  `chain` (one audit event per use case, its payload from the services' own builders in
  `workflow.audit_payloads`, hashed and chained on to the existing head under the chain's
  lock). Every use case appends its event, so the load keeps `workflow.audit_rule`;
- `replay`: the same plan through the services, one call at a time: tests/cli/test_scale_demo.py
  compares the two databases row by row.
"""

from .load import Load, Outcome, prepare
from .plan import Plan, Step, plan
from .replay import check_texts, replay
from .world import PROCESSES, Refused, World, is_empty, refusal

__all__ = [
    "PROCESSES",
    "Load",
    "Outcome",
    "Plan",
    "Refused",
    "Step",
    "World",
    "check_texts",
    "is_empty",
    "plan",
    "prepare",
    "refusal",
    "replay",
]
