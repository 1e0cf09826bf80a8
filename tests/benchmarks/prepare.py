"""The data the benchmark runner measures on, on top of `accord demo --scale N`:

- two processes of its own ("Benchmark — …", KZ-BS, KG-BS, KZ-SRC and LV-SBG), so nothing
  the runner adds changes what the scale data set's lists show;
- in the first, one recommendation with 20 revisions and 50 comments (10 threads, some quoting the
  text, some resolved), an approval and an objection, in expert consolidation: the page and
  API detail call measured (made once, found again by its title);
- in the second, a supply of recommendations in expert consolidation addressed to KZ-BS and
  KG-BS, for the approve + adopt figure (made fresh each run: the run adopts them). Apart, so
  that the first one's page offers an EU expert no long list of merge targets.

Everything goes through the services, so its history and audit chain are real.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.workflow import services
from accord.workflow.db import Database, refresh_statistics
from accord.workflow.models import Process, Recommendation, User
from accord.workflow.states import State

PROCESS_TITLE = "Benchmark — a recommendation with its history"
SUPPLY_PROCESS_TITLE = "Benchmark — recommendations to approve and adopt"
PROCESS_AGENCIES = ["KZ-BS", "KG-BS", "KZ-SRC", "LV-SBG"]
RICH_TITLE = "Benchmark: joint patrol schedules on the common border"
SCRATCH_TITLE = "Benchmark: notes taken while others read"

#: Who does what in the prepared data (demo accounts; see README).
EXPERT, KZ_APPROVER, KG_APPROVER, EU_EXPERT = "aigerim", "serik", "chynara", "ilze"
COMMENTERS = ["serik", "chynara", "dana", "ilze", "bakyt", "aigerim"]

PARAGRAPHS = [
    "The border services of Kazakhstan and Kyrgyzstan agree a **joint patrol schedule** for the "
    "common border sections between Kordai and Ak-Zhol, published to both agencies a month ahead.",
    "Each patrol is led alternately by an officer of either service; the leading service informs "
    "the customs posts at the crossing points it passes of the patrol's route and timing.",
    "Incidents observed by a joint patrol are recorded in one shared report, in Russian and in the "
    "language of the leading service, and sent to both headquarters within 24 hours.",
    "The services exchange, every quarter, their analysis of the risks on the patrolled sections: "
    "smuggling routes, irregular crossings, and the seasons in which they peak.",
    "A joint working group reviews the schedule every six months and proposes changes to the "
    "heads of both services; the State Border Guard of Latvia advises on its methodology.",
    "Training on the shared report and on radio procedures is given to every officer assigned to "
    "joint patrols before their first patrol, and refreshed every year.",
]


def accord_command() -> str:
    command = shutil.which("accord", path=str(Path(sys.executable).parent)) or shutil.which("accord")
    if command is None:
        raise SystemExit("the console command `accord` is not installed: pip install -e '.[test]'")
    return command


def recommendation_count(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(Recommendation)) or 0


def load_scale(database_url: str, n: int, env: dict[str, str]) -> float:
    """`accord demo --scale N` on this database; its wall-clock time in seconds."""
    started = time.perf_counter()
    subprocess.run([accord_command(), "demo", "--scale", str(n)], env={**env, "ACCORD_DATABASE_URL": database_url},
                   check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, f"no demo account {username}"
    return user


def benchmark_process(database: Database, title: str = PROCESS_TITLE) -> int:
    """A process of the benchmark's own (made once)."""
    with database.write() as session:
        found = session.scalar(select(Process.id).where(Process.title == title))
        if found is not None:
            return found
        return services.add_process(session, _user(session, "admin"), title=title,
                                    agency_codes=PROCESS_AGENCIES).id


def rich_recommendation(database: Database, process_id: int, *, revisions: int = 20, comments: int = 50) -> int:
    """The recommendation with `revisions` revisions and `comments` comments (made once)."""
    with database.read() as session:
        found = session.scalar(select(Recommendation.id).where(Recommendation.title == RICH_TITLE))
    if found is not None:
        return found
    paragraphs = list(PARAGRAPHS)
    drafted = revisions // 2
    threads = max(1, comments // 5)
    with database.write() as session:  # all of it or nothing
        def who(username: str) -> User:
            return _user(session, username)

        rec = services.create_recommendation(
            session, who(EXPERT), process_id=process_id, title=RICH_TITLE,
            body="\n\n".join(paragraphs), addressed_agencies=["KG-BS", "KZ-SRC"])
        for n in range(2, revisions + 1):
            if n == drafted + 1:
                services.perform_transition(session, who(EXPERT), rec.id, "submit")
                services.perform_transition(session, who(KZ_APPROVER), rec.id, "endorse")
            at = n % len(paragraphs)
            paragraphs[at] = paragraphs[at].replace(" every ", " each ", 1) + f" (Revision {n}: wording agreed.)"
            services.edit_recommendation(
                session, who(EXPERT if n <= drafted else EU_EXPERT), rec.id, title=RICH_TITLE,
                body="\n\n".join(paragraphs), base_revision=rec.revision,
                summary=f"Wording of paragraph {at + 1}")
        thread_ids = []
        for t in range(threads):
            words = paragraphs[t % len(paragraphs)].split()
            quote = " ".join(words[3:8]) if t % 2 == 0 else None
            thread = services.start_thread(
                session, who(COMMENTERS[t % len(COMMENTERS)]), rec.id,
                body=f"Thread {t + 1}: does this cover the winter season?", quote=quote)
            thread_ids.append(thread.id)
        for c in range(comments - threads):
            services.add_comment(session, who(COMMENTERS[(c + 1) % len(COMMENTERS)]), thread_ids[c % threads],
                                 body=f"Reply {c + 1}: yes, the *schedule* says so in paragraph {c % 6 + 1}.")
        for thread_id in thread_ids[: threads // 3]:
            services.resolve_thread(session, who(EXPERT), thread_id)
        services.record_decision(session, who(KZ_APPROVER), rec.id, "approve", revision=rec.revision)
        services.record_decision(session, who(KG_APPROVER), rec.id, "object", revision=rec.revision,
                                 reason="Name the officer who leads mixed patrols at night.")
        assert rec.revision == revisions
        return rec.id


def scratch_thread(database: Database, process_id: int) -> int:
    """A thread on a recommendation of its own, where the benchmark's writer posts comments
    while others read (made once; the comments pile up there and nowhere else)."""
    with database.read() as session:
        found = session.scalar(select(Recommendation.id).where(Recommendation.title == SCRATCH_TITLE))
        if found is not None:
            return services.list_threads(session, _user(session, EXPERT), found, page=1, per_page=1).items[0].id
    with database.write() as session:
        rec = services.create_recommendation(
            session, _user(session, EXPERT), process_id=process_id, title=SCRATCH_TITLE,
            body=PARAGRAPHS[0], addressed_agencies=["KG-BS"])
        services.perform_transition(session, _user(session, EXPERT), rec.id, "submit")
        return services.start_thread(session, _user(session, EXPERT), rec.id, body="Notes of the session.").id


def supply(database: Database, process_id: int, count: int) -> list[int]:
    """`count` new recommendations in expert consolidation, addressed to KZ-BS and KG-BS."""
    ids = []
    with database.write() as session:
        expert, approver = _user(session, EXPERT), _user(session, KZ_APPROVER)
        stamp = int(time.time())
        for n in range(count):
            rec = services.create_recommendation(
                session, expert, process_id=process_id, title=f"Benchmark supply {stamp}-{n}",
                body=PARAGRAPHS[n % len(PARAGRAPHS)], addressed_agencies=["KG-BS"])
            services.perform_transition(session, expert, rec.id, "submit")
            services.perform_transition(session, approver, rec.id, "endorse")
            ids.append(rec.id)
    return ids


def analyze(database: Database) -> None:
    """Planner statistics after the benchmark's own loads (as `accord demo --scale` does)."""
    refresh_statistics(database.engine)


@dataclass(frozen=True)
class ListTarget:
    process_id: int
    viewer: str
    total: int  # recommendations in the database, but for the benchmark's own
    count: int  # of them in the process
    listed: int  # of them in the filtered state


def largest_process(database: Database, state: str = "expert_consolidation") -> ListTarget:
    """The process with the most recommendations, and an EU expert whose body takes part."""
    with database.read() as session:
        process_id, count = session.execute(
            select(Recommendation.process_id, func.count())
            .join(Process, Process.id == Recommendation.process_id)
            .where(Process.title.not_like("Benchmark — %"))
            .group_by(Recommendation.process_id).order_by(func.count().desc()).limit(1)).one()
        process = session.get(Process, process_id)
        codes = {a.code for a in process.agencies}
        viewer = next((name for name, code in (("ilze", "LV-SBG"), ("janis", "LV-SRS"), ("kadri", "EE-ASS"))
                       if code in codes), "auditor")
        listed = session.scalar(select(func.count()).select_from(Recommendation).where(
            Recommendation.process_id == process_id, Recommendation.state == State(state)))
        total = session.scalar(  # the data set's, not counting what the benchmark adds
            select(func.count()).select_from(Recommendation)
            .join(Process, Process.id == Recommendation.process_id).where(Process.title.not_like("Benchmark — %")))
    return ListTarget(process_id, viewer, total or 0, count, listed or 0)
