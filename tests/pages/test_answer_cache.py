"""Pages and API answers kept while the data is unchanged (web/answer_cache.py): served again
only while nothing changed, to the same person in the same language, with their own CSRF
token; and, over a random walk of changes by everyone, always the very answer a server
without the cache gives."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from accord.config.settings import ConfigurationError, Settings
from accord.web import create_app
from accord.web.answer_cache import MAX_KEPT_ADDRESS, AnswerCache, Kept, answer_cache, cost
from accord.workflow.states import State

from ..factories import PASSWORD, build_world
from ..helpers import without_csrf_token
from .conftest import PageClient

ROOT = Path(__file__).resolve().parents[2]
#: Each is a full read (none is kept), ~3 ms of CPU: 600 addresses of 250 KB (150 MB if they
#: were kept) already overrun the 32 MB budget fivefold; the reported attack was 6,000, which
#: ACCORD_CACHE_ATTACK_REQUESTS=6000 replays (CI's PostgreSQL leg does).
ATTACK_REQUESTS = int(os.environ.get("ACCORD_CACHE_ATTACK_REQUESTS", "600"))




@pytest.fixture
def rec(world, session):
    return world.bring_to(session, State.expert_consolidation)


@pytest.fixture
def uncached(connection_database, tmp_path):
    """The same application on the same data, keeping nothing."""
    return create_app(
        Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_ANSWER_CACHE_MB": "0"}),
        database=connection_database, TESTING=True,
    )


def test_a_page_is_served_again_while_nothing_changes(app, rec, as_user):
    kz = as_user("kz_approver")
    cache = answer_cache(app)
    first = kz.text(f"/recommendations/{rec.id}")
    hits = cache.hits
    again = kz.text(f"/recommendations/{rec.id}")
    assert cache.hits == hits + 1
    # The session's CSRF token is put back into the kept page on each request, and Flask-WTF
    # signs it with the current second: the same token may come back with another timestamp.
    assert without_csrf_token(again) == without_csrf_token(first)


def test_a_kept_page_carries_the_readers_own_csrf_token_and_its_forms_work(app, rec, as_user):
    kz, kg = as_user("kz_approver"), as_user("kg_approver")
    kz.text(f"/recommendations/{rec.id}")  # kept
    page = kz.text(f"/recommendations/{rec.id}")  # served from the cache
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1  # one token, the session's, in every form
    token = tokens.pop()
    assert answer_cache(app).marker.decode() not in page
    approved = kz.post(f"/recommendations/{rec.id}/decisions",
                       {"decision": "approve", "revision": "1", "csrf_token": token})
    assert approved.status_code == 303
    # Another person's kept page is theirs: their name, their token.
    kg.text(f"/recommendations/{rec.id}")
    theirs = kg.text(f"/recommendations/{rec.id}")
    assert "kg_approver" in theirs or "KG-BS" in theirs
    assert token not in theirs


def test_any_change_is_shown_at_once(app, rec, as_user):
    kz, kg = as_user("kz_approver"), as_user("kg_approver")
    before = kz.text(f"/recommendations/{rec.id}")
    kz.text(f"/recommendations/{rec.id}")
    assert "A question from Bishkek" not in before
    started = kg.post(f"/recommendations/{rec.id}/threads", {"body": "A question from Bishkek", "revision": "1"})
    assert started.status_code == 303
    assert "A question from Bishkek" in kz.text(f"/recommendations/{rec.id}")


def test_api_answers_are_kept_per_person(app, rec, world, session):
    client = app.test_client()
    tokens = {}
    for name in ("kz_approver", "lv_expert"):
        answer = client.post("/api/v1/tokens", json={"username": name, "password": PASSWORD})
        tokens[name] = answer.json["token"]

    def detail(name):
        return client.get(f"/api/v1/recommendations/{rec.id}", headers={"Authorization": f"Bearer {tokens[name]}"})

    kz_first, kz_again = detail("kz_approver"), detail("kz_approver")
    lv = detail("lv_expert")
    assert kz_first.json == kz_again.json
    assert kz_again.content_type == "application/json"
    assert "approve" in kz_first.json["allowed_actions"] and "approve" not in lv.json["allowed_actions"]
    assert "merge" in lv.json["allowed_actions"] and "merge" not in kz_first.json["allowed_actions"]


def test_a_flashed_message_is_shown_once_and_never_kept(app, world, session, as_user):
    rec = world.bring_to(session, State.draft)
    session.commit()
    kz = as_user("kz_expert")
    kz.text(f"/recommendations/{rec.id}")
    answer = kz.post(f"/recommendations/{rec.id}/transitions", {"action": "submit"})
    assert answer.status_code == 303
    assert "Done: the recommendation is now in the state" in kz.text(f"/recommendations/{rec.id}")
    assert "Done: the recommendation is now in the state" not in kz.text(f"/recommendations/{rec.id}")


def test_a_signed_out_session_gets_nothing_kept(app, rec, as_user):
    kz = as_user("kz_approver")
    kz.text(f"/recommendations/{rec.id}")
    assert kz.post("/sign-out", {}).status_code in (302, 303)
    answer = kz.get(f"/recommendations/{rec.id}")
    assert answer.status_code in (302, 303) and "/sign-in" in answer.headers["Location"]


def test_each_language_has_its_own_page(app, rec, as_user):
    kz = as_user("kz_approver")
    english = kz.get(f"/recommendations/{rec.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    russian = kz.get(f"/recommendations/{rec.id}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="en">' in english and '<html lang="ru">' in russian
    hits = answer_cache(app).hits
    again = kz.get(f"/recommendations/{rec.id}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert again == russian and answer_cache(app).hits == hits + 1


def test_the_cache_is_off_with_zero_megabytes_and_refuses_a_bad_size(uncached, tmp_path):
    assert answer_cache(uncached) is None
    with pytest.raises(ConfigurationError, match="ACCORD_ANSWER_CACHE_MB"):
        Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_ANSWER_CACHE_MB": "lots"})
    assert Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)}).answer_cache_mb == 32


def _entry(path: str, body: bytes, change: int = 7) -> tuple[tuple[str, str, int, str], Kept]:
    return ("v", f"http://127.0.0.1{path}", 1, "en"), Kept(change, body, "text/html", False)


def test_the_budget_drops_the_least_recently_used_and_an_older_state_never_replaces_a_newer():
    one = cost(*_entry("/0", b"x" * 100))
    cache = AnswerCache(budget=2 * one + one // 2)
    for n in range(3):
        cache.put(*_entry(f"/{n}", b"x" * 100))
    assert len(cache) == 2 and cache.size == 2 * one
    assert cache.get(_entry("/0", b"")[0], 7) is None  # dropped first
    assert cache.get(_entry("/2", b"")[0], 7) is not None
    assert cache.get(_entry("/2", b"")[0], 8) is None  # the data changed since
    cache.put(*_entry("/2", b"new", 9))
    cache.put(*_entry("/2", b"old", 8))  # a slower, older reading
    assert cache.get(_entry("/2", b"")[0], 9).body == b"new"
    cache.put(*_entry("/big", b"x" * cache.budget))  # larger than all
    assert cache.get(_entry("/big", b"")[0], 9) is None


def test_keys_count_toward_the_budget():
    """Long addresses with short answers: the addresses are what fills the memory."""
    cache = AnswerCache(budget=100_000)
    for n in range(1_000):
        cache.put(*_entry(f"/recommendations/1?n={n}&pad={'x' * 1_000}", b"{}"))
    assert cache.size <= cache.budget
    assert len(cache) < cache.budget // 1_000


def test_the_accounted_size_is_what_the_entries_really_take():
    """Measured by tracemalloc: every entry made of objects of its own, as a server's are."""
    rng = random.Random(5)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = AnswerCache(budget=10**9)
        for n in range(3_000):
            cache.put(*_entry(f"/recommendations/{n}?page={rng.randrange(99)}" + "&q=x" * rng.randrange(200),
                              bytes(rng.randrange(50, 5_000))))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(cache) == 3_000
    assert held <= cache.size <= 1.25 * held


def test_an_absurd_address_is_answered_but_never_kept(app, rec, as_user):
    kz = as_user("kz_approver")
    cache = answer_cache(app)
    usual = kz.text(f"/recommendations/{rec.id}")
    kept = len(cache)
    long = kz.get(f"/recommendations/{rec.id}?pad={'x' * MAX_KEPT_ADDRESS}")
    assert long.status_code == 200 and "Joint working group" in long.get_data(as_text=True)
    assert len(cache) == kept
    assert kz.text(f"/recommendations/{rec.id}?pad={'x' * 200}") == usual
    assert len(cache) == kept + 1  # an address of a sensible length is kept


def test_reads_under_thousands_of_250_kb_addresses_keep_nothing_of_them(database_server):
    """The attack of issue 11 in a process of its own (tests/pages/cache_attack.py), with the
    process's resident memory before and after, reported."""
    url = database_server.new_database()
    finished = subprocess.run(
        [sys.executable, "-m", "tests.pages.cache_attack", url, "--requests", str(ATTACK_REQUESTS), "--query-kb", "250"],
        cwd=ROOT, capture_output=True, text=True, timeout=1_800, stdin=subprocess.DEVNULL)
    assert finished.returncode == 0, finished.stderr[-3_000:]
    outcome = json.loads(finished.stdout)
    print(outcome)
    assert outcome["statuses"] == {"200": ATTACK_REQUESTS}
    assert outcome["entries"] == 1  # the usual address only
    assert outcome["accounted"] <= outcome["budget"]


# --- the oracle: a random walk of changes, every kept answer against a fresh one -------------

OBSERVERS = ("kz_expert", "kz_approver", "kg_approver", "uz_expert", "lv_expert", "tj_approver", "auditor")
ACTORS = ("kz_expert", "kz_approver", "kg_expert", "kg_approver", "uz_expert", "uz_approver", "lv_expert")
REASONS = {"request_changes", "return", "withdraw", "object"}


class Person:
    """One person on both servers: a browser session and a token on each."""

    def __init__(self, name: str, cached, fresh) -> None:
        self.name = name
        self.pages = {"cached": PageClient(cached.test_client()).sign_in(name),
                      "fresh": PageClient(fresh.test_client()).sign_in(name)}
        self.api = {}
        for which, app in (("cached", cached), ("fresh", fresh)):
            client = app.test_client()
            token = client.post("/api/v1/tokens", json={"username": name, "password": PASSWORD}).json["token"]
            self.api[which] = (client, {"Authorization": f"Bearer {token}"})

    def api_call(self, method: str, path: str, which: str = "cached", **kwargs):
        client, headers = self.api[which]
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def _addresses(process_id: int, rec_ids: list[int], revisions: dict[int, int]) -> list[tuple[str, str]]:
    out = [("page", f"/processes/{process_id}"), ("page", f"/processes/{process_id}?state=expert_consolidation"),
           ("api", f"/recommendations?process={process_id}")]
    for rec_id in rec_ids:
        last = revisions.get(rec_id, 1)
        out += [("page", f"/recommendations/{rec_id}"), ("page", f"/recommendations/{rec_id}/history"),
                ("page", f"/recommendations/{rec_id}/diff?from=1&to={last}"),
                ("api", f"/recommendations/{rec_id}"), ("api", f"/recommendations/{rec_id}/threads"),
                ("api", f"/recommendations/{rec_id}/revisions"),
                ("api", f"/recommendations/{rec_id}/diff?from=1&to={last}")]
    return out


def _answer(person: Person, kind: str, address: str, which: str) -> tuple[int, str]:
    if kind == "page":
        response = person.pages[which].get(address)
        return response.status_code, without_csrf_token(response.get_data(as_text=True))
    response = person.api_call("GET", address, which)
    return response.status_code, response.get_data(as_text=True)


def _threads(person: Person, rec_id: int) -> list[dict]:
    answer = person.api_call("GET", f"/recommendations/{rec_id}/threads", "fresh")
    assert answer.status_code == 200, answer.json
    return answer.json["items"]


def _one_change(rng: random.Random, people: dict[str, Person], world, rec_ids: list[int],
                revisions: dict[int, int]) -> str:
    """Someone does one thing they may do (or, now and then, something they may not)."""
    name = rng.choice(ACTORS)
    person = people[name]
    if rng.random() < 0.2 and name.endswith("_expert") and name != "lv_expert":
        answer = person.api_call("POST", "/recommendations", json={
            "process": world.process.id, "title": f"Proposal {len(rec_ids) + 1}",
            "body": "A border crossing point shares its risk analysis.", "addressed_agencies": ["KG-BS"]})
        if answer.status_code == 201:
            rec_ids.append(answer.json["id"])
        return f"{name} creates: {answer.status_code}"
    listed = person.api_call("GET", f"/recommendations?process={world.process.id}", "fresh")
    assert listed.status_code == 200, listed.json
    visible = listed.json["items"]
    if not visible:
        return f"{name} sees nothing"
    rec = rng.choice(visible)
    rec_id = rec["id"]
    allowed = [a for a in rec["allowed_actions"] if rng.random() < 0.9] or ["approve"]  # now and then, a refusal
    # Comments are allowed to nearly everyone: weigh them down, so the walk moves things.
    action = rng.choices(allowed, weights=[1 if a == "comment" else 4 for a in allowed])[0]
    reason = {"reason": f"Because of step {rng.randrange(1000)}."} if action in REASONS else {}
    if action == "edit":
        answer = person.api_call("PUT", f"/recommendations/{rec_id}", json={
            "title": rec["title"], "body": rec["body"] + f"\n\nAmended {rng.randrange(1000)}.",
            "base_revision": rec["revision"]})
        if answer.status_code == 200:
            revisions[rec_id] = answer.json["revision"]
    elif action == "comment":
        threads = _threads(person, rec_id)
        open_threads = [t for t in threads if not t.get("resolved_at")]
        if open_threads and rng.random() < 0.5:
            answer = person.api_call("POST", f"/threads/{rng.choice(open_threads)['id']}/comments",
                                     json={"body": f"I agree ({rng.randrange(1000)})."})
        else:
            answer = person.api_call("POST", f"/recommendations/{rec_id}/threads",
                                     json={"body": "Who chairs the group?", "revision": rec["revision"]})
    elif action in ("approve", "object"):
        answer = person.api_call("POST", f"/recommendations/{rec_id}/approvals",
                                 json={"decision": action, "revision": rec["revision"], **reason})
    elif action == "merge":
        others = [r for r in rec_ids if r != rec_id]
        answer = person.api_call("POST", f"/recommendations/{rec_id}/transitions",
                                 json={"action": "merge", "into": rng.choice(others) if others else rec_id})
    elif action == "moderate_thread":
        threads = _threads(person, rec_id)
        if not threads:
            return f"{name}: no thread to moderate"
        thread = rng.choice(threads)
        verb = "reopen" if thread.get("resolved_at") else "resolve"
        answer = person.api_call("POST", f"/threads/{thread['id']}/{verb}")
    else:
        answer = person.api_call("POST", f"/recommendations/{rec_id}/transitions", json={"action": action, **reason})
    return f"{name} {action} {rec_id}: {answer.status_code}"


def test_kept_answers_are_always_the_answers_of_a_server_without_the_cache(fresh_database, tmp_path):
    """Two servers on one database with real commits, one keeping answers and one not."""
    def server(megabytes: str):
        settings = Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_ANSWER_CACHE_MB": megabytes})
        return create_app(settings, database=fresh_database, TESTING=True)

    app, uncached = server("32"), server("0")
    with fresh_database.write() as session:
        world = build_world(session)
        first = world.bring_to(session, State.expert_consolidation)
        second = world.bring_to(session, State.draft, title="A second proposal")
    people = {name: Person(name, app, uncached) for name in sorted(set(OBSERVERS) | set(ACTORS))}
    rec_ids, revisions = [first.id, second.id], {}
    walk, watch = random.Random(20261128), random.Random(1)
    cache = answer_cache(app)
    steps = []
    for _ in range(50):
        steps.append(_one_change(walk, people, world, rec_ids, revisions))
        for observer in watch.sample(OBSERVERS, 2):
            for kind, address in _addresses(world.process.id, rec_ids, revisions):
                # The server without the cache answers each reading alike, so one of its answers
                # judges both readings of the other: the first may be kept, the second is then
                # served from the cache.
                fresh = _answer(people[observer], kind, address, "fresh")
                for _ in range(2):
                    kept = _answer(people[observer], kind, address, "cached")
                    assert kept == fresh, f"{observer} {kind} {address} after: " + "; ".join(steps[-5:])
    assert cache.hits > 500
    assert sum(s.endswith((": 200", ": 201")) for s in steps) > 25, steps  # the walk changed things, not only read them
