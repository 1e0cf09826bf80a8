"""Concurrent clients against Accord served by gunicorn, then the checks.

    python -m tests.load [--database-url URL] [--clients 16] [--seconds 60] [--workers 2] [--threads 4]
                         [--servers 1]

Without --database-url, a new SQLite file in a temporary folder. The database is migrated and
the demo loaded when it is empty. With --servers 2, two gunicorn servers (of --workers each)
share the database and the secret key; each client sends its requests to each in turn and
reads every change it made back from the other server at once.

Exit status 0 when there was no 5xx, no failed connection, no "database is locked", no
unexpected answer, every acknowledged change is in the history and `accord audit verify`
passes (and, with several servers, no change was missing from another server's answer just
after it was acknowledged, and failed sign-ins counted on one server stopped guessing on all);
1 otherwise. See tests/load/scenario.py for the workload.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .runner import report, run_load, temporary_sqlite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--servers", type=int, default=1, help="gunicorn servers sharing the database")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="accord-load-") as tmp:
        url = args.database_url or temporary_sqlite(tmp)
        outcome = run_load(url, clients=args.clients, seconds=args.seconds, workdir=Path(tmp),
                           workers=args.workers, threads=args.threads, seed=args.seed, servers=args.servers)
        print(report(outcome, url, args.clients))
    if args.json:
        stats = outcome.stats
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "clients": args.clients, "servers": args.servers, "seconds": stats.seconds, "requests": stats.total,
            "requests_per_second": stats.per_second,
            "kinds": [vars(k) for k in stats.kinds], "acknowledged": outcome.ledger.counts(),
            "per_server": stats.per_server(), "confirmed_elsewhere": outcome.confirmed,
            "problems": outcome.problems,
        }, indent=2, default=str))
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
