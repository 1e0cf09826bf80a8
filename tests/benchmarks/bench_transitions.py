"""What one transition costs: the shared state machine alone, a machine built per object (the
alternative it avoids), and a whole transition through the service on a real database (one
write transaction, row lock, audit event, commit).

    python -m tests.benchmarks.bench_transitions [--transitions 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from transitions import Machine

from accord.migrations import schema
from accord.workflow import passwords, services
from accord.workflow.db import Database
from accord.workflow.states import MACHINE, TRANSITIONS, State, Transition, fire

from ._common import Figure, best_of, print_table


def machine_figures(rounds: int = 20_000) -> list[Figure]:
    rec = SimpleNamespace(id=1, process_id=1, state=State.draft, title="T", body="B", addressed_agencies=[1])

    def shared() -> None:
        for _ in range(rounds):
            rec.state = State.draft
            fire(rec, Transition.submit)

    def per_object() -> None:
        for _ in range(rounds // 10):
            model = SimpleNamespace(id=1, process_id=1, title="T", body="B", addressed_agencies=[1])
            Machine(model=model, states=State, transitions=TRANSITIONS, initial=State.draft,
                    auto_transitions=False, send_event=True)
            model.submit()

    shared_us = best_of(3, shared) / rounds * 1e6
    per_object_us = best_of(3, per_object) / (rounds // 10) * 1e6
    assert MACHINE.models == []
    return [
        Figure("fire on the shared machine", shared_us, "µs/transition"),
        Figure("new Machine per object + fire", per_object_us, "µs/transition",
               ratio=per_object_us / shared_us, note="ratio to the shared machine"),
    ]


def service_figures(database: Database, count: int) -> list[Figure]:
    from tests.factories import build_world

    with database.write() as session:
        world = build_world(session)
        rec_id = world.draft(session).id
    expert = world["kz_expert"]
    approver = world["kz_approver"]
    started = time.perf_counter()
    for n in range(count):
        with database.write() as session:
            if n % 2 == 0:
                services.perform_transition(session, expert, rec_id, "submit")
            else:
                services.perform_transition(session, approver, rec_id, "request_changes", reason="Again.")
    elapsed = time.perf_counter() - started
    return [
        Figure(f"{count:,} transitions through the service ({database.engine.dialect.name})",
               elapsed, "s", note=f"{elapsed / count * 1000:.2f} ms each, {count / elapsed:,.0f}/s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transitions", type=int, default=1000)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()
    passwords.use_fast_hashing_for_tests()
    figures = machine_figures()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        database = Database(url)
        schema.upgrade(database.engine)
        figures += service_figures(database, args.transitions)
        database.dispose()
    print_table("Transitions", figures)


if __name__ == "__main__":
    main()
