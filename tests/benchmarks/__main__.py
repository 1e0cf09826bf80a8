"""Accord beside a bare Flask + SQLAlchemy floor, served alike, measured in the same run.

    python -m tests.benchmarks [--scale 10000] [--database-url URL] [--connections 8]
                               [--seconds 15] [--rounds 3] [--supply 1500] [--output FILE]

The apps are served by gunicorn (2 workers × 4 threads, as `tests.load` serves Accord) on the
same database, and measured one at a time with the same number of concurrent keep-alive
connections on loopback: the floor (`tests/benchmarks/floor.py`: one row by primary key into a
tiny template), Accord's recommendation page and API detail call (a recommendation with 20
revisions and 50 comments), the process list filtered by state at N recommendations (the page,
and the API's list beside it), the diff page (revision 1 against 20), and approve + adopt
(each addressed agency approves, then an EU expert adopts: transitions per second). Reads are
measured from Accord as deployed, which keeps answers while the data is unchanged
(`web/answer_cache.py`), once more while a comment is posted elsewhere every 0.25 s, and from a
third server that keeps nothing (ACCORD_ANSWER_CACHE_MB=0): what a read costs after a change. The whole
list is measured in turn, --rounds times, so that a neighbour's load on a shared machine falls
on all figures alike; each figure sums its rounds. Ratios are to the floor's throughput.

The database: by default a SQLite file under artifacts/benchmarks/, made with
`accord demo --scale N` when missing (a minute or two for 10,000; timed and reported) and
reused afterwards; or any --database-url (an empty one is loaded the same way). The table is
printed and the figures written as JSON (default artifacts/benchmarks.json).
Figures, never assertions: the machine is shared, so rerun when one looks odd.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from sqlalchemy import text

from accord.config.demo import DEMO_PASSWORD
from accord.migrations import schema
from accord.workflow.db import Database
from tests.load.server import describe, served, server_env

from . import floor, prepare
from ._common import Figure
from .measure import ApproveAdopt, Identity, Measurement, Reads, ReadsWhileWriting, Target, measure

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


def machine(database: Database) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    facts = {"cpus": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
             "sqlite": sqlite3.sqlite_version, "database": database.engine.dialect.name}
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            facts["postgresql"] = connection.execute(text("SHOW server_version")).scalar_one()
    return facts


def targets(url: str, rec_id: int, listing: prepare.ListTarget, supply: list[int], scratch: int) -> list[Target]:
    def people(names: list[str], pages: bool) -> list[Identity]:
        return [Identity.sign_in(url, name, DEMO_PASSWORD, pages=pages) for name in names]

    readers = ["serik", "dana", "ilze", "chynara"]  # approvers of the addressed agencies, an EU expert
    approvers = people([prepare.KZ_APPROVER, prepare.KG_APPROVER], pages=False)
    adopter = people([prepare.EU_EXPERT], pages=False)[0]
    state = "expert_consolidation"
    return [
        Reads("recommendation page", [f"/recommendations/{rec_id}"], people(readers, pages=True), goal=0.5),
        ReadsWhileWriting("recommendation page, a comment elsewhere every 0.25 s", [f"/recommendations/{rec_id}"],
                          people(readers, pages=True), writer=people([prepare.EXPERT], pages=False)[0],
                          thread_id=scratch, every=0.25),
        Reads("API detail", [f"/api/v1/recommendations/{rec_id}"], people(readers, pages=False), goal=0.5),
        Reads(f"process list, state filter, N={listing.total:,}",
              [f"/processes/{listing.process_id}?state={state}"], people([listing.viewer], pages=True), goal=0.3),
        Reads(f"API list, state filter, N={listing.total:,}",
              [f"/api/v1/recommendations?process={listing.process_id}&state={state}&per_page=100"],
              people([listing.viewer], pages=False)),
        Reads("diff page (1 → 20)", [f"/recommendations/{rec_id}/diff?from=1&to=20"], people(readers, pages=True)),
        ApproveAdopt("approve + adopt", supply, approvers, adopter),
    ]


#: The second Accord server: the same application with its answer cache off.
UNKEPT = "nothing kept"


def nothing_kept(measured: list[Target]) -> list[Target]:
    """The same reads from a server that keeps no answers (ACCORD_ANSWER_CACHE_MB=0): what each
    costs when the data changed since it was last read, as after every write."""
    return [replace(t, name=f"{t.name}, {UNKEPT}", server=UNKEPT, goal=None)
            for t in measured if type(t) is Reads]


def figures_of(measured: list[Measurement], floor_rate: float) -> list[Figure]:
    out = []
    for m in measured:
        unit = "transitions/s" if isinstance(m.target, ApproveAdopt) else "requests/s"
        ratio = m.per_second / floor_rate if floor_rate else None
        note = f"goal ≥ {m.target.goal}" if m.target.goal else ""
        if m.ran_dry:
            note = (note + "; " if note else "") + "the supply ran out before the time was up"
        if m.refused:
            note = (note + "; " if note else "") + f"{len(m.refused)} answers not 2xx"
        out.append(Figure(f"{m.target.name}: throughput", m.per_second, unit, ratio, note))
        out.append(Figure(f"{m.target.name}: p50", m.p50_ms, "ms"))
        out.append(Figure(f"{m.target.name}: p99", m.p99_ms, "ms"))
    return out


def table(measured: list[Measurement], floor_rate: float) -> str:
    width = max(len(m.target.name) for m in measured)
    lines = [f"  {'what':<{width}}  {'per s':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'× floor':>7}  goal",
             f"  {'-' * width}  {'-' * 8}  {'-' * 7}  {'-' * 7}  {'-' * 7}  ----"]
    for m in measured:
        ratio = m.per_second / floor_rate if floor_rate else 0
        goal = ""
        if m.target.goal:
            goal = f"≥ {m.target.goal}: {'met' if ratio >= m.target.goal else 'MISSED'}"
        extra = "  (ran out of supply)" if m.ran_dry else ""
        extra += f"  ({len(m.refused)} not 2xx)" if m.refused else ""
        lines.append(f"  {m.target.name:<{width}}  {m.per_second:>8.1f}  {m.p50_ms:>7.1f}  {m.p99_ms:>7.1f}  "
                     f"{ratio:>7.2f}  {goal}{extra}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10_000, help="recommendations of the generated data set")
    parser.add_argument("--database-url", help="default: artifacts/benchmarks/accord-scale-N.db (made once)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time of each figure, all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="times the whole list is measured in turn")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time before each measurement")
    parser.add_argument("--supply", type=int, default=1500, help="recommendations to approve and adopt")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--output", type=Path, default=ARTIFACTS / "benchmarks.json")
    args = parser.parse_args(argv)

    if args.database_url:
        url = args.database_url
    else:
        (ARTIFACTS / "benchmarks").mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{ARTIFACTS / 'benchmarks' / f'accord-scale-{args.scale}.db'}"
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        env = server_env(url, Path(tmp) / "instance")
        database = Database(url)
        try:
            return run(args, url, env, database, Path(tmp))
        finally:
            database.dispose()


def run(args: argparse.Namespace, url: str, env: dict[str, str], database: Database, tmp: Path) -> int:
    print(f"database: {describe(url)}", file=sys.stderr)
    schema.upgrade(database.engine)
    figures: list[Figure] = []
    if prepare.recommendation_count(database) < args.scale:
        print(f"accord demo --scale {args.scale:,} …", file=sys.stderr)
        seconds = prepare.load_scale(url, args.scale, env)
        figures.append(Figure(f"accord demo --scale {args.scale} ({database.engine.dialect.name})", seconds, "s"))
    rec_id = prepare.rich_recommendation(database, prepare.benchmark_process(database))
    started = time.perf_counter()
    supply = prepare.supply(database, prepare.benchmark_process(database, prepare.SUPPLY_PROCESS_TITLE),
                            args.supply)
    print(f"prepared {len(supply)} recommendations to adopt in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    floor.create_table(database)
    prepare.analyze(database)
    listing = prepare.largest_process(database)
    gunicorn = dict(workers=args.workers, threads=args.threads)
    unkept_env = {**env, "ACCORD_ANSWER_CACHE_MB": "0"}
    with served("tests.benchmarks.floor:app", env, tmp / "floor.log", **gunicorn) as floor_server, \
            served("accord.web.wsgi:app", env, tmp / "accord.log", **gunicorn) as accord, \
            served("accord.web.wsgi:app", unkept_env, tmp / "accord-nothing-kept.log", **gunicorn) as unkept:
        urls = {"floor": floor_server.url, "accord": accord.url, UNKEPT: unkept.url}
        scratch = prepare.scratch_thread(database, prepare.benchmark_process(database))
        measured_targets = targets(accord.url, rec_id, listing, supply, scratch)
        plan = [Reads("floor: one row, tiny template", [f"/floor/{n}" for n in range(1, floor.ROWS + 1)],
                      server="floor"),
                *measured_targets, *nothing_kept(measured_targets)]
        rounds: list[list[Measurement]] = [[] for _ in plan]
        for number in range(1, args.rounds + 1):
            for target, measured in zip(plan, rounds, strict=True):
                print(f"round {number}/{args.rounds}: {target.name} …", file=sys.stderr)
                measured.append(measure(urls[target.server], target, connections=args.connections,
                                        seconds=args.seconds / args.rounds, warmup=args.warmup))
        complaints = accord.complaints() + unkept.complaints() + floor_server.complaints()
    measured = [Measurement.combined(r) for r in rounds]
    floor_rate = measured[0].per_second
    figures += figures_of(measured, floor_rate)
    facts = machine(database)
    print(f"\nAccord beside the floor: {args.connections} connections, {args.seconds:g} s each in "
          f"{args.rounds} rounds (each after {args.warmup:g} s of warm-up), "
          f"gunicorn {args.workers} workers × {args.threads} threads, "
          f"{describe(url)}: {listing.total:,} recommendations, {listing.count:,} in the listed process, "
          f"{listing.listed:,} of them in the filtered state (a page shows 100)")
    print(table(measured, floor_rate))
    print(f"  ({facts['cpus']} × {facts['cpu']}, Python {facts['python']}, SQLite {facts['sqlite']}"
          + (f", PostgreSQL {facts['postgresql']}" if "postgresql" in facts else "") + ")")
    for figure in figures:
        if figure.unit == "s":
            print(f"  {figure.name}: {figure.value:.1f} s")
    if complaints:
        print("the servers logged:\n  " + "\n  ".join(complaints[:20]), file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "run": {"connections": args.connections, "seconds": args.seconds, "rounds": args.rounds,
                "warmup": args.warmup,
                "workers": args.workers, "threads": args.threads, "scale": args.scale,
                "database": describe(url), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": facts, "floor_per_second": floor_rate},
        "figures": [{k: v for k, v in asdict(f).items() if v not in (None, "")} for f in figures],
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"figures written to {args.output}", file=sys.stderr)
    refused = [m for m in measured if m.refused]
    for m in refused:
        first = m.refused[0]
        print(f"{m.target.name}: {len(m.refused)} answers not 2xx, first {first.status} {first.method} "
              f"{first.path} {first.error}", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
