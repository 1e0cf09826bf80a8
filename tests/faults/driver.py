"""Clients that keep writing through the API, as the demo's people, and remember what the server
said it saved.

Each `Writer` is one person in a thread of its own: it picks a recommendation it can see,
reads it, picks one of its `allowed_actions` (or drafts a new one, or comments) and does it.
Every 2xx answer goes into its `Acknowledged`; refusals (403, 404, 409, 422: someone else
moved first) are normal; anything else is kept in `unexpected`. A request the server never
answered (it was killed, or cut off) is counted, not judged.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import requests

from .consistency import Acknowledged

#: Who drafts, and whom they address (the agencies the writers can approve for).
DRAFTERS = {"aigerim": "KZ-BS", "dana": "KZ-SRC"}
ADDRESSABLE = ["KZ-BS", "KZ-SRC", "KG-CS"]
#: How much each action is wanted when allowed.
WEIGHTS = {
    "edit": 3, "comment": 3, "approve": 3, "object": 0.5, "submit": 2, "endorse": 2,
    "adopt": 2, "request_changes": 0.7, "return": 0.7, "withdraw": 0.2, "merge": 0.2,
}
NORMAL_REFUSALS = {403, 404, 409, 422}
REQUEST_TIMEOUT = 30


class Writer(threading.Thread):
    def __init__(self, base_url: str, username: str, token: str, stop: threading.Event, seed: int) -> None:
        super().__init__(name=f"writer-{username}", daemon=True)
        self.base_url, self.username, self.stop = base_url, username, stop
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.random = random.Random(seed)
        self.acked = Acknowledged()
        self.statuses: Counter = Counter()
        self.unexpected: list[str] = []
        self.interrupted = 0  # sent, never answered: the connection broke
        self.refused = 0  # the server was not there
        self.known: list[int] = []
        self.threads_of: dict[int, list[int]] = {}
        self.counter = 0

    # --- plumbing ---------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any] | None:
        try:
            answer = self.http.request(method, self.base_url + "/api/v1" + path, json=body, timeout=REQUEST_TIMEOUT)
        except requests.ConnectionError as error:
            if _refused(error):
                self.refused += 1
            else:
                self.interrupted += 1
            self.stop.wait(0.05)
            return None
        except requests.Timeout:
            self.unexpected.append(f"{method} {path}: no answer within {REQUEST_TIMEOUT} s")
            return None
        except requests.RequestException:  # the answer was cut short (ChunkedEncodingError)
            self.interrupted += 1
            self.stop.wait(0.05)
            return None
        self.statuses[answer.status_code] += 1
        try:
            data = answer.json() if answer.content else None
        except ValueError:
            data = None
        if answer.status_code >= 300 and answer.status_code not in NORMAL_REFUSALS:
            self.unexpected.append(f"{method} {path} → {answer.status_code} {answer.text[:300]}")
        return answer.status_code, data

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except BaseException as error:  # noqa: BLE001  (reported by the test, not lost in a thread)
            self.unexpected.append(f"the writer failed: {error!r}")
        finally:
            self.http.close()

    def step(self) -> None:
        self.counter += 1
        if self.username in DRAFTERS and (not self.known or self.random.random() < 0.15):
            self.create()
            return
        if not self.known or self.counter % 10 == 1:
            listed = self.call("GET", "/recommendations?per_page=200")
            if listed is None or listed[0] != 200:
                return
            self.known = [item["id"] for item in listed[1]["items"] if not _terminal(item)]
            if not self.known:
                return
        rec_id = self.random.choice(self.known)
        read = self.call("GET", f"/recommendations/{rec_id}")
        if read is None or read[0] != 200:
            return
        rec = read[1]
        actions = [a for a in rec["allowed_actions"] if a in WEIGHTS]
        if not actions:
            return
        action = self.random.choices(actions, weights=[WEIGHTS[a] for a in actions])[0]
        getattr(self, "do_" + action, self.do_transition)(rec, action)

    def text(self) -> str:
        return f"Paragraph by {self.username}, step {self.counter}, {self.random.randrange(10**9)}."

    def create(self) -> None:
        addressed = self.random.sample(ADDRESSABLE, self.random.randint(0, 2))
        title = f"Crash-test draft by {self.username} #{self.counter}-{self.random.randrange(10**6)}"
        body = self.text()
        answer = self.call("POST", "/recommendations", {
            "process": 1, "title": title, "body": body, "addressed_agencies": addressed,
        })
        if answer and answer[0] == 201:
            rec = answer[1]
            self.acked.created[rec["id"]] = title
            self.acked.revisions.add((rec["id"], 1, body))
            self.known.append(rec["id"])

    def do_edit(self, rec: dict, _action: str) -> None:
        body = rec["body"] + "\n\n" + self.text()
        answer = self.call("PUT", f"/recommendations/{rec['id']}", {
            "title": rec["title"], "body": body, "base_revision": rec["revision"], "summary": "fault test",
        })
        if answer and answer[0] == 200:
            saved = answer[1]
            self.acked.revisions.add((saved["id"], saved["revision"], saved["body"]))

    def do_comment(self, rec: dict, _action: str) -> None:
        threads = self.threads_of.get(rec["id"])
        if threads and self.random.random() < 0.5:
            answer = self.call("POST", f"/threads/{self.random.choice(threads)}/comments", {"body": self.text()})
            if answer and answer[0] == 201:
                self.acked.comments.add(answer[1]["id"])
            return
        answer = self.call("POST", f"/recommendations/{rec['id']}/threads", {"body": self.text()})
        if answer and answer[0] == 201:
            thread = answer[1]
            self.acked.threads.add(thread["id"])
            self.acked.comments.add(thread["comments"][0]["id"])
            self.threads_of.setdefault(rec["id"], []).append(thread["id"])

    def do_approve(self, rec: dict, action: str) -> None:
        body: dict[str, Any] = {"decision": action, "revision": rec["revision"]}
        if action == "object":
            body["reason"] = "Objection raised by the fault test."
        answer = self.call("POST", f"/recommendations/{rec['id']}/approvals", body)
        if answer and answer[0] == 201:
            decision = answer[1]
            self.acked.decisions.add(
                (rec["id"], decision["by"], decision["decision"], decision["revision"], decision["at"])
            )

    do_object = do_approve

    def do_transition(self, rec: dict, action: str) -> None:
        body: dict[str, Any] = {"action": action, "reason": f"Reason given by {self.username}."}
        if action == "merge":
            others = [i for i in self.known if i != rec["id"]]
            if not others:
                return
            body["into"] = self.random.choice(others)
        answer = self.call("POST", f"/recommendations/{rec['id']}/transitions", body)
        if answer and answer[0] == 200:
            self.acked.transitions[(rec["id"], action, answer[1]["state"])] += 1


def _terminal(item: dict) -> bool:
    return item["state"] in ("adopted", "withdrawn", "merged")


def _refused(error: requests.ConnectionError) -> bool:
    """Whether the connection was refused (no server listening), as opposed to broken."""
    return "Connection refused" in str(error) or "[Errno 111]" in str(error)
