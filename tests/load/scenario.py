"""The mixed workload of a load run, and the checks made after it.

Each client is one demo person (a different agency or role each, in the order of `PEOPLE`),
signed in through the API (and the sign-in page, for the page reads). Until the time is up it
picks a recommendation it can see, reads it, and does one thing: mostly what the answer's
`allowed_actions` offers it (edit, comment, approve or object, a transition), else a read
(history, a diff, threads, a revision, the page; the auditor reads and verifies the audit log).
National experts keep drafting new recommendations, so work never runs out.

Every acknowledged (2xx) edit, conflict copy, comment, decision, transition and creation goes
into a `Ledger`; after the run `check` finds each one in the database, exactly as
acknowledged, and runs `accord audit verify`.

With several servers (of one deployment: one database, one secret key), each client sends its
requests to each server in turn, so tokens and sessions made on one are used on the others.
Right after a change is acknowledged, the client reads it back from the next server (the
recommendation, or its threads and page for a comment): a kept answer of that server older
than the change would show up there as stale (`Person.stale`). `sign_in_limits_hold` checks
that failed sign-ins counted by one server stop guessing on all of them.
"""

from __future__ import annotations

import html
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from accord.config.demo import DEMO_PASSWORD
from accord.workflow.db import Database
from accord.workflow.models import Approval, AuditEvent, Comment, ConflictCopy, Recommendation, Revision, User
from accord.workflow.services.sign_in_limits import PER_NAME_AND_ADDRESS

from .client import Answer, Client, Stats

#: Who the clients are, in order: client n signs in as PEOPLE[n % len(PEOPLE)]. The first six
#: cover every role of the workflow on three agencies whose approvers are among them.
PEOPLE = [
    "aigerim",    # KZ-BS national expert
    "serik",      # KZ-BS approver
    "ilze",       # LV-SBG EU expert
    "chynara",    # KG-BS approver
    "dana",       # KZ-SRC national expert and approver
    "auditor",    # EE-ASS auditor
    "bakyt",      # KG-BS national expert
    "janis",      # LV-SRS EU expert
    "azamat",     # KG-CS national expert and approver
    "kadri",      # EE-ASS EU expert
    "farrukh",    # TJ-BT national expert and approver
    "nigina",     # TJ-CS national expert
    "parviz",     # TJ-CS approver
    "sardor",     # UZ-CC national expert and approver
    "jasur",      # UZ-BT national expert
    "dilnoza",    # UZ-BT approver
    "merdan",     # TM-BS national expert and approver
    "ogulgerek",  # TM-CS national expert and approver
]

#: How strongly each offered action is preferred over the others.
WEIGHTS = {
    "edit": 4.0, "comment": 1.5, "approve": 4.0, "object": 0.6, "submit": 4.0, "endorse": 4.0,
    "request_changes": 0.8, "return": 0.6, "adopt": 6.0, "merge": 0.2, "withdraw": 0.2,
}
READS = {"read revisions": 1.0, "read diff": 1.0, "read threads": 1.0, "read revision": 0.7, "read page": 0.7}
TERMINAL = {"adopted", "withdrawn", "merged"}

#: Statuses that are a fair answer under concurrency: a state that moved on (409), a
#: recommendation sent back to draft and private again (404), an action no longer allowed (403).
FAIR = {403, 404, 409}


@dataclass
class Ledger:
    """What the server acknowledged; appended to by every client under one lock."""

    edits: list[tuple[str, int, int, str, str]] = field(default_factory=list)  # user, rec, number, title, body
    conflicts: list[tuple[str, int, int, str]] = field(default_factory=list)  # user, rec, copy id, body
    comments: list[tuple[str, int, str]] = field(default_factory=list)  # user, comment id, body
    decisions: list[tuple[str, int, int, str]] = field(default_factory=list)  # user, rec, revision, decision
    transitions: list[tuple[str, int, str]] = field(default_factory=list)  # user, rec, action
    created: list[tuple[str, int]] = field(default_factory=list)  # user, rec
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, what: str, entry: tuple[Any, ...]) -> None:
        with self.lock:
            getattr(self, what).append(entry)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name))
                for name in ("edits", "conflicts", "comments", "decisions", "transitions", "created")}


class Person:
    """One client thread's behaviour."""

    def __init__(self, index: int, base_urls: Sequence[str], ledger: Ledger, seed: int) -> None:
        self.username = PEOPLE[index % len(PEOPLE)]
        self.index = index
        # Clients start on different servers, so that every server issues tokens and sessions.
        self.client = Client(base_urls, first=index)
        self.pages = Client(base_urls, first=index)  # a browser session of the same person
        self.pages.samples = self.client.samples
        self.ledger = ledger
        self.rng = random.Random(seed * 1000 + index)
        self.known: dict[int, dict[str, Any]] = {}
        self.roles: set[str] = set()
        self.agency = ""
        self.process = 0
        self.writes = 0
        self.unexpected: list[str] = []
        #: Changes acknowledged by one server and read back from another; those found missing.
        self.confirmed = 0
        self.stale: list[str] = []

    # --- the loop -----------------------------------------------------------------------------

    def run(self, deadline: float) -> None:
        try:
            self.client.sign_in_api(self.username, DEMO_PASSWORD)
            self.pages.sign_in_pages(self.username, DEMO_PASSWORD)
            me = self.get("read me", "/api/v1/me").json()
            self.roles, self.agency = set(me["roles"]), me["agency"]["code"]
            processes = self.get("read processes", "/api/v1/processes").json()["items"]
            self.process = next(p["id"] for p in processes if self.agency in p["agencies"])
            step = 0
            while time.monotonic() < deadline:
                self.step(step)
                step += 1
        except Exception as failure:  # noqa: BLE001  (a client bug or a broken answer: reported, not hidden)
            self.unexpected.append(f"{self.username}: {type(failure).__name__}: {failure}")
        finally:
            self.client.close()
            self.pages.close()

    def step(self, n: int) -> None:
        if n % 8 == 0 or not self.known:
            self.refresh()
        if "auditor" in self.roles and self.rng.random() < 0.3:
            self.audit()
            return
        if "national_expert" in self.roles and self.rng.random() < self._drafting_appetite():
            self.create()
            return
        rec = self.pick()
        if rec is None:
            return
        detail = self.get("read detail", f"/api/v1/recommendations/{rec['id']}")
        if detail.status == 404:
            self.known.pop(rec["id"], None)
            return
        if not detail.ok:
            return
        rec = self.known[rec["id"]] = detail.json()
        choices = {a: WEIGHTS[a] for a in rec["allowed_actions"] if a in WEIGHTS}
        choices.update(READS)
        if rec["revision"] < 2:
            choices.pop("read diff")
        action = self.rng.choices(list(choices), weights=list(choices.values()))[0]
        getattr(self, "do_" + action.replace(" ", "_"))(rec)

    def _drafting_appetite(self) -> float:
        mine = [r for r in self.known.values()
                if r["proposing_agency"] == self.agency and r["state"] not in TERMINAL]
        return 0.3 if len(mine) < 3 else 0.03

    def pick(self) -> dict[str, Any] | None:
        live = [r for r in self.known.values() if r["state"] not in TERMINAL]
        actionable = [r for r in live if set(r["allowed_actions"]) - {"comment"}]
        pool = actionable if actionable and self.rng.random() < 0.75 else (live or list(self.known.values()))
        return self.rng.choice(pool) if pool else None

    # --- requests -----------------------------------------------------------------------------

    def get(self, kind: str, path: str) -> Answer:
        return self._check(kind, self.client.request(kind, "GET", path), {200, 404})

    def send(self, kind: str, method: str, path: str, body: dict[str, Any], ok: set[int]) -> Answer:
        self.writes += 1
        return self._check(kind, self.client.request(kind, method, path, json_body=body), ok | FAIR)

    def _check(self, kind: str, answer: Answer, expected: set[int]) -> Answer:
        if answer.status not in expected and answer.status < 500 and answer.status != 0:
            self.unexpected.append(f"{self.username} {kind}: {answer.status} {answer.text[:200]}")
        return answer

    def refresh(self) -> None:
        query = f"process={self.process}&per_page=100"
        if self.rng.random() < 0.3:
            query += "&state=" + self.rng.choice(["draft", "national_review", "expert_consolidation"])
        answer = self.get("read list", f"/api/v1/recommendations?{query}")
        if answer.ok:
            for item in answer.json()["items"]:
                self.known[item["id"]] = item

    def create(self) -> None:
        others = [code for code in ("KZ-BS", "KG-BS", "KZ-SRC") if code != self.agency]
        addressed = [self.agency] + self.rng.sample(others, self.rng.randint(0, 1))
        title = f"Load {self.username} {self.writes}"
        body = (f"Each agency names a contact point for {title}.\n\n"
                f"The contact points meet every quarter.\n\nMinutes go to every addressed agency.")
        answer = self.send("create", "POST", "/api/v1/recommendations",
                           {"process": self.process, "title": title, "body": body, "addressed_agencies": addressed},
                           {201})
        if answer.status == 201:
            rec = answer.json()
            self.known[rec["id"]] = rec
            self.ledger.add("created", (self.username, rec["id"]))
            # Its proposer's agency always sees a recommendation: it may not vanish.
            self.confirm(answer, f"new recommendation {rec['id']}", rec["id"], lambda seen: True, may_vanish=False)

    def do_edit(self, rec: dict[str, Any]) -> None:
        base = rec
        if rec["revision"] > 1 and self.rng.random() < 0.25:
            # Someone who opened the editor a while ago: their text starts from an older
            # revision, so the server merges it, or keeps it as a conflict copy.
            older = self.get("read revision", f"/api/v1/recommendations/{rec['id']}/revisions/{rec['revision'] - 1}")
            if older.ok:
                base = {**older.json(), "revision": rec["revision"] - 1}
        paragraphs = base["body"].split("\n\n")
        mark = f"{self.username}-{self.writes}"
        if self.rng.random() < 0.5:
            paragraphs.append(f"Added by {mark}.")
        else:
            at = self.rng.randrange(len(paragraphs))
            paragraphs[at] = f"{paragraphs[at]} (as {mark} puts it)"
        body = "\n\n".join(paragraphs)
        answer = self.send("edit", "PUT", f"/api/v1/recommendations/{rec['id']}",
                           {"title": base["title"], "body": body, "base_revision": base["revision"],
                            "summary": f"Edit {mark}"}, {200})
        if answer.status == 200:
            saved = answer.json()
            self.ledger.add("edits", (self.username, rec["id"], saved["revision"], saved["title"], saved["body"]))
            self.known[rec["id"]] = saved
            self.confirm(answer, f"revision {saved['revision']} of recommendation {rec['id']}", rec["id"],
                         lambda seen: seen["revision"] >= saved["revision"])
        elif answer.error_code == "edit_conflict":
            copy = answer.json()["conflict"]["your_text_saved_as"]
            self.ledger.add("conflicts", (self.username, rec["id"], copy, body))

    def do_comment(self, rec: dict[str, Any]) -> None:
        text = f"Comment by {self.username}, number {self.writes}: agreed in principle."
        threads = []
        if self.rng.random() < 0.5:
            answer = self.get("read threads", f"/api/v1/recommendations/{rec['id']}/threads?per_page=200")
            threads = answer.json()["items"] if answer.ok else []
        if threads:
            thread = self.rng.choice(threads)
            answer = self.send("comment", "POST", f"/api/v1/threads/{thread['id']}/comments", {"body": text}, {201})
            if answer.status == 201:
                self.ledger.add("comments", (self.username, answer.json()["id"], text))
                self.confirm_comment(answer, rec["id"], answer.json()["id"], text)
            return
        payload: dict[str, Any] = {"body": text}
        words = rec["body"].split()
        if len(words) > 4 and self.rng.random() < 0.5:
            start = self.rng.randrange(len(words) - 3)
            quote = " ".join(words[start:start + 3])
            if quote in rec["body"]:
                payload.update(quote=quote, revision=rec["revision"])
        answer = self.send("comment", "POST", f"/api/v1/recommendations/{rec['id']}/threads", payload, {201})
        if answer.status == 201:
            first = answer.json()["comments"][0]
            self.ledger.add("comments", (self.username, first["id"], text))
            self.confirm_comment(answer, rec["id"], first["id"], text)

    def _decide(self, rec: dict[str, Any], decision: str) -> None:
        body = {"decision": decision, "revision": rec["revision"]}
        if decision == "object":
            body["reason"] = f"{self.username} needs the quarterly meeting named."
        answer = self.send(decision, "POST", f"/api/v1/recommendations/{rec['id']}/approvals", body, {201})
        if answer.status == 201:
            self.ledger.add("decisions", (self.username, rec["id"], rec["revision"], decision))
            made = answer.json()
            self.confirm(answer, f"{self.username}'s {decision} of recommendation {rec['id']}", rec["id"],
                         lambda seen: any(a["agency"] == made["agency"] and _moment(a["at"]) >= _moment(made["at"])
                                          for a in seen["approvals"]))

    def do_approve(self, rec: dict[str, Any]) -> None:
        self._decide(rec, "approve")

    def do_object(self, rec: dict[str, Any]) -> None:
        self._decide(rec, "object")

    def _transition(self, rec: dict[str, Any], action: str, **extra: Any) -> None:
        answer = self.send(action, "POST", f"/api/v1/recommendations/{rec['id']}/transitions",
                           {"action": action, **extra}, {200})
        if answer.status == 200:
            after = self.known[rec["id"]] = answer.json()
            self.ledger.add("transitions", (self.username, rec["id"], action))
            # Every later change of the recommendation moves `updated_at` on, under its row lock.
            self.confirm(answer, f"{action} of recommendation {rec['id']}", rec["id"],
                         lambda seen: _moment(seen["updated_at"]) >= _moment(after["updated_at"]))

    def do_submit(self, rec: dict[str, Any]) -> None:
        self._transition(rec, "submit")

    def do_endorse(self, rec: dict[str, Any]) -> None:
        self._transition(rec, "endorse")

    def do_adopt(self, rec: dict[str, Any]) -> None:
        self._transition(rec, "adopt")

    def do_request_changes(self, rec: dict[str, Any]) -> None:
        self._transition(rec, "request_changes", reason=f"{self.username}: say who chairs the meetings.")

    def do_return(self, rec: dict[str, Any]) -> None:
        self._transition(rec, "return", reason=f"{self.username}: the agencies should look again.")

    def do_withdraw(self, rec: dict[str, Any]) -> None:
        self._transition(rec, "withdraw", reason=f"{self.username}: covered elsewhere.")

    def do_merge(self, rec: dict[str, Any]) -> None:
        targets = [r["id"] for r in self.known.values()
                   if r["state"] == "expert_consolidation" and r["id"] != rec["id"] and r["process"] == rec["process"]]
        if targets:
            self._transition(rec, "merge", into=self.rng.choice(targets))

    def do_read_revisions(self, rec: dict[str, Any]) -> None:
        self.get("read revisions", f"/api/v1/recommendations/{rec['id']}/revisions?per_page=200")

    def do_read_revision(self, rec: dict[str, Any]) -> None:
        number = self.rng.randint(1, rec["revision"])
        self.get("read revision", f"/api/v1/recommendations/{rec['id']}/revisions/{number}")

    def do_read_diff(self, rec: dict[str, Any]) -> None:
        new = rec["revision"]
        old = self.rng.randint(1, new - 1)
        self.get("read diff", f"/api/v1/recommendations/{rec['id']}/diff?from={old}&to={new}")

    def do_read_threads(self, rec: dict[str, Any]) -> None:
        self.get("read threads", f"/api/v1/recommendations/{rec['id']}/threads?per_page=200")

    def do_read_page(self, rec: dict[str, Any]) -> None:
        answer = self.pages.request("read page", "GET", f"/recommendations/{rec['id']}")
        self._check("read page", answer, {200, 404})

    # --- across servers ------------------------------------------------------------------------

    def _elsewhere(self, acknowledged: Answer) -> int | None:
        """The next server after the one that acknowledged a change; None with only one."""
        servers = len(self.client.servers)
        return None if servers == 1 else (acknowledged.server + 1) % servers

    def _stale(self, acknowledged: Answer, server: int, what: str, seen: str) -> None:
        self.stale.append(f"{self.username}: {what}, acknowledged by server {acknowledged.server + 1}, "
                          f"was not in server {server + 1}'s answer just after: {seen[:300]}")

    def confirm(self, acknowledged: Answer, what: str, rec_id: int, reflects: Callable[[dict[str, Any]], bool],
                *, may_vanish: bool = True) -> None:
        """Read the recommendation from the next server at once: it must reflect the change. (A
        404 is fair when the recommendation may have gone back to a private draft meanwhile.)"""
        server = self._elsewhere(acknowledged)
        if server is None:
            return
        seen = self._check("confirm elsewhere", self.client.request(
            "confirm elsewhere", "GET", f"/api/v1/recommendations/{rec_id}", server=server), {200, 404})
        self.confirmed += 1
        if seen.status == 404 and not may_vanish:
            self._stale(acknowledged, server, what, "404")
        elif seen.status == 200 and not reflects(seen.json()):
            self._stale(acknowledged, server, what, seen.text)

    def confirm_comment(self, acknowledged: Answer, rec_id: int, comment_id: int, text: str) -> None:
        """The comment is in the next server's thread list and on its page of the recommendation."""
        server = self._elsewhere(acknowledged)
        if server is None:
            return
        what = f"comment {comment_id} on recommendation {rec_id}"
        threads = self._check("confirm elsewhere", self.client.request(
            "confirm elsewhere", "GET", f"/api/v1/recommendations/{rec_id}/threads?per_page=200", server=server),
            {200, 404})
        page = self._check("confirm elsewhere", self.pages.request(
            "confirm elsewhere", "GET", f"/recommendations/{rec_id}", server=server), {200, 404})
        self.confirmed += 1
        if threads.status == 200:
            listed = threads.json()
            ids = {c["id"] for t in listed["items"] for c in t["comments"]}
            if comment_id not in ids and listed["total"] <= len(listed["items"]):  # all threads listed
                self._stale(acknowledged, server, what + " (API)", threads.text)
        if page.status == 200 and html.escape(text, quote=False) not in page.text:
            self._stale(acknowledged, server, what + " (page)", f"the page has no {text!r}")

    def audit(self) -> None:
        if self.rng.random() < 0.1:
            self.get("audit verify", "/api/v1/audit/verify")
        else:
            self.get("audit list", f"/api/v1/audit?per_page=50&page={self.rng.randint(1, 3)}")


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    stats: Stats
    ledger: Ledger
    unexpected: list[str]
    problems: list[str]  # each a reason the run failed
    servers: int = 1
    confirmed: int = 0  # changes read back from another server than the one that acknowledged them


@dataclass
class Driven:
    """What the clients did and were told."""

    stats: Stats
    ledger: Ledger
    unexpected: list[str]  # answers no client should have got
    confirmed: int  # changes read back from another server than the one that acknowledged them
    stale: list[str]  # those another server's answer did not reflect


def drive(base_urls: Sequence[str], clients: int, seconds: float, *, seed: int = 2019) -> Driven:
    """Run `clients` people against the servers for `seconds`."""
    ledger = Ledger()
    people = [Person(n, base_urls, ledger, seed) for n in range(clients)]
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=p.run, args=(deadline,), name=f"load-{p.username}") for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    samples = [s for p in people for s in p.client.samples]
    return Driven(Stats(samples, elapsed), ledger, [u for p in people for u in p.unexpected],
                  sum(p.confirmed for p in people), [s for p in people for s in p.stale])


#: No such user: failed sign-ins under an unknown name are counted like wrong passwords.
INTRUDER = "load-intruder"


def sign_in_limits_hold(base_urls: Sequence[str]) -> list[str]:
    """Wrong passwords sent to each server in turn, as many as cost nothing: then every server
    delays the next guess (429), having counted those the others answered. A delay of one
    second may lapse on a slow machine before a server is asked; the guess it then answers 401
    counts too and doubles the delay, so it is asked again (three times at most)."""
    client = Client(base_urls)
    problems: list[str] = []
    free = PER_NAME_AND_ADDRESS.free + 1  # failures before the first delay begins
    try:
        for n in range(free):
            answer = client.request("sign in (wrong)", "POST", "/api/v1/tokens",
                                    json_body={"username": INTRUDER, "password": f"guess number {n}"})
            if answer.status != 401:
                problems.append(f"wrong password {n + 1} to server {answer.server + 1}: {answer.status}, not 401")
        for server in range(len(base_urls)):
            statuses = []
            while len(statuses) < 3 and 429 not in statuses:
                answer = client.request("sign in (wrong)", "POST", "/api/v1/tokens", server=server,
                                        json_body={"username": INTRUDER, "password": "one guess more"})
                statuses.append(answer.status)
            if 429 not in statuses:
                problems.append(f"server {server + 1} answered {statuses}, never 429, after {free} failures "
                                "on all servers")
    finally:
        client.close()
    return problems


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def check(database_url: str, ledger: Ledger, env: dict[str, str]) -> list[str]:
    """Every acknowledged change is in the database as acknowledged, and the chain verifies."""
    problems: list[str] = []
    database = Database(database_url)
    try:
        with database.read() as session:
            problems += _check_ledger(session, ledger)
    finally:
        database.dispose()
    command = shutil.which("accord", path=str(Path(sys.executable).parent)) or shutil.which("accord")
    if command is None:
        problems.append("the console command `accord` is not installed: pip install -e .")
    else:
        verified = subprocess.run([command, "audit", "verify"], env=env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=600)
        if verified.returncode != 0:
            problems.append(f"accord audit verify exited {verified.returncode}: {verified.stderr.strip()}")
    return problems


def _check_ledger(session: Any, ledger: Ledger) -> list[str]:
    problems: list[str] = []
    names = dict(session.execute(select(User.id, User.username)).all())
    for user, rec_id, number, title, body in ledger.edits:
        row = session.scalar(select(Revision).where(Revision.recommendation_id == rec_id, Revision.number == number))
        if row is None or (names[row.author_id], row.title, row.body) != (user, title, body):
            problems.append(f"lost update: revision {number} of recommendation {rec_id} saved by {user}")
    for user, rec_id, copy_id, body in ledger.conflicts:
        row = session.get(ConflictCopy, copy_id)
        if row is None or (names[row.author_id], row.recommendation_id, row.body) != (user, rec_id, body):
            problems.append(f"lost conflict copy {copy_id} of {user} on recommendation {rec_id}")
    for user, comment_id, body in ledger.comments:
        row = session.get(Comment, comment_id)
        if row is None or (names[row.author_id], row.body) != (user, body):
            problems.append(f"lost comment {comment_id} of {user}")
    decided = Counter(session.execute(
        select(Approval.recommendation_id, Approval.revision_number, Approval.decision, Approval.user_id)).all())
    decided = Counter({(rec, rev, str(decision.value), names[uid]): n for (rec, rev, decision, uid), n in decided.items()})
    for (user, rec_id, revision, decision), n in Counter(ledger.decisions).items():
        if decided[(rec_id, revision, decision, user)] < n:
            problems.append(f"lost decision: {user} {decision} on revision {revision} of recommendation {rec_id}")
    fired = Counter(session.execute(
        select(AuditEvent.actor, AuditEvent.recommendation_id, AuditEvent.action)).all())
    for key, n in Counter(ledger.transitions).items():
        if fired[key] < n:
            problems.append(f"lost transition: {key[0]} {key[2]} on recommendation {key[1]}")
    created = {rec_id for _, rec_id in ledger.created}
    if created:
        found = set(session.scalars(select(Recommendation.id).where(Recommendation.id.in_(created))))
        problems += [f"lost recommendation {rec_id}" for rec_id in sorted(created - found)]
    # Revisions have no holes: 1 … current, for every recommendation.
    holes = session.execute(
        select(Recommendation.id)
        .join(Revision, Revision.recommendation_id == Recommendation.id)
        .group_by(Recommendation.id, Recommendation.revision)
        .having((func.count(Revision.id) != Recommendation.revision) | (func.max(Revision.number) != Recommendation.revision))
    ).scalars().all()
    problems += [f"recommendation {rec_id}: its revisions are not 1 … current" for rec_id in holes]
    return problems
