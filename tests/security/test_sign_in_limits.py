"""Guessing passwords is slowed down, and nobody can be locked out by a stranger.

Tried as an attacker would: random names and the victim's name from another address, waiting
out every delay; pages on other sites spending the victim's attempts from the victim's own
browser; a whole workshop behind one venue address; a forged X-Forwarded-For. Time is the
`clock`'s, which stands still until a test moves it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accord.config.settings import Settings
from accord.web import create_app
from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.models import Credential, SignInFailure
from accord.workflow.services.sign_in_limits import (
    FAILURE_MEMORY,
    PER_ADDRESS,
    PER_NAME_AND_ADDRESS,
    PRUNE_BATCH,
    address_key,
)

from ..factories import PASSWORD
from ..helpers import Clock
from ..pages.conftest import PageClient
from .conftest import People, full_snapshot

VICTIM = "198.51.100.10"
ATTACKER = "203.0.113.66"


def sign_in_api(app, username: str, password: str, addr: str = VICTIM, **headers: str):
    return app.test_client().post("/api/v1/tokens", json={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": addr}, headers=headers)


def sign_in_page(app, username: str, password: str, addr: str = VICTIM):
    visitor = PageClient(app.test_client())
    token = visitor.csrf_token("/sign-in")
    return visitor.client.post("/sign-in", data={"username": username, "password": password, "csrf_token": token},
                               environ_base={"REMOTE_ADDR": addr})


def fail_patiently(clock: Clock, attempt: Callable[[], object], times: int) -> list[int]:
    """Fail `times` times, waiting out every delay as a patient guesser would; the delays met."""
    waits, failed = [], 0
    while failed < times:
        answer = attempt()
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            clock.advance(waits[-1])
        else:
            assert answer.status_code == 401, answer.status_code
            failed += 1
    return waits


def random_name() -> str:
    return f"guess_{uuid.uuid4().hex[:12]}"


def failures_from(session, addr: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.remote_addr == addr))


# --- the rule -------------------------------------------------------------------------------------


def test_the_delays_are_those_the_readme_states():
    assert FAILURE_MEMORY == timedelta(hours=1)
    seconds = [PER_NAME_AND_ADDRESS.delay(n).total_seconds() for n in range(1, 16)]
    assert seconds == [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert [PER_ADDRESS.delay(n).total_seconds() for n in (1, 100, 101, 102, 105, 106, 10**6)] == [0, 0, 1, 2, 16, 30, 30]


def test_a_guesser_waits_twice_as_long_after_each_failure_up_to_five_minutes(app, people, clock):
    waits = fail_patiently(clock, lambda: sign_in_api(app, "kg_expert", "wrong guess", addr=ATTACKER), 16)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    limited = sign_in_api(app, "kg_expert", PASSWORD, addr=ATTACKER)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "300"
    assert limited.get_json()["error"] == {"code": "rate_limited", "message": "Too many failed sign-ins; try again in 5 minutes."}


def test_a_delay_ends_on_time(app, people, clock):
    for _ in range(4):
        assert sign_in_api(app, "kg_expert", "wrong guess").status_code == 401
    limited = sign_in_api(app, "kg_expert", PASSWORD)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    clock.advance(0.5)
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 429
    clock.advance(0.5)
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 201


def test_attempts_during_a_delay_are_neither_checked_nor_counted(app, people, clock, session):
    for _ in range(4):
        sign_in_api(app, "kg_expert", "wrong guess")
    for _ in range(20):
        assert sign_in_api(app, "kg_expert", "another guess").status_code == 429
    assert failures_from(session, VICTIM) == 4
    clock.advance(1)
    assert sign_in_api(app, "kg_expert", "wrong guess").status_code == 401
    assert sign_in_api(app, "kg_expert", PASSWORD).headers["Retry-After"] == "2"  # the fifth, not the 25th


def test_while_delayed_the_answer_does_not_tell_a_right_password(app, people, clock):
    for _ in range(4):
        sign_in_api(app, "kg_expert", "wrong guess")
    right, wrong = sign_in_api(app, "kg_expert", PASSWORD), sign_in_api(app, "kg_expert", "still wrong")
    assert right.status_code == wrong.status_code == 429
    assert right.get_json() == wrong.get_json() and right.headers["Retry-After"] == wrong.headers["Retry-After"]


def test_the_page_and_the_api_count_failures_together(app, people, clock):
    for _ in range(2):
        assert sign_in_page(app, "kg_expert", "wrong guess 1").status_code == 401
    for _ in range(2):
        assert sign_in_api(app, "kg_expert", "wrong guess 2").status_code == 401
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 429
    page = sign_in_page(app, "kg_expert", PASSWORD)
    assert page.status_code == 429 and page.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins" in page.get_data(as_text=True)


def test_spellings_of_a_name_count_as_one(app, people, clock):
    for name in ("kg_expert", "KG_EXPERT", " kg_expert ", "Kg_Expert\t"):
        assert sign_in_api(app, name, "wrong guess").status_code == 401
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 429


def test_a_success_clears_that_names_failures_from_that_address_only(app, people, clock):
    for addr in (VICTIM, ATTACKER):
        for _ in range(3):
            assert sign_in_api(app, "kg_expert", "wrong guess", addr=addr).status_code == 401
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 201
    for _ in range(3):  # three typing mistakes again cost nothing…
        assert sign_in_api(app, "kg_expert", "wrong guess").status_code == 401
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 201
    # …while the stranger's count stands.
    assert sign_in_api(app, "kg_expert", "wrong guess", addr=ATTACKER).status_code == 401
    assert sign_in_api(app, "kg_expert", PASSWORD, addr=ATTACKER).status_code == 429


def test_failures_older_than_an_hour_do_not_count_and_are_deleted(app, people, clock, session):
    old = clock.now - FAILURE_MEMORY - timedelta(seconds=5)
    session.add_all(SignInFailure(username="kg_expert", remote_addr=VICTIM, occurred_at=old) for _ in range(50))
    session.commit()
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 201
    assert failures_from(session, VICTIM) == 0


def test_a_delayed_sign_in_changes_nothing(app, people: People, clock, session):
    for _ in range(4):
        sign_in_api(app, "kg_expert", "wrong guess")
    before = full_snapshot(session)
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 429
    assert sign_in_page(app, "kg_expert", PASSWORD).status_code == 429
    assert full_snapshot(session) == before


# --- nobody is locked out by a stranger ----------------------------------------------------------


def test_a_strangers_guesses_from_elsewhere_and_from_other_sites_do_not_stop_the_owner(app, people, clock, session):
    # From the attacker's own address: 50 random names, then 20 failures with the victim's
    # name, waiting out every delay.
    for _ in range(50):
        assert sign_in_api(app, random_name(), "wrong guess", addr=ATTACKER).status_code == 401
    fail_patiently(clock, lambda: sign_in_api(app, "kg_expert", "wrong guess", addr=ATTACKER), 20)
    assert failures_from(session, ATTACKER) == 70
    # From pages on other sites the victim visits: what a browser sends cross-site without
    # asking the site first (fetch with mode "no-cors", or a form) comes from the victim's own
    # address, but is never read as a sign-in.
    guess = json.dumps({"username": "kg_expert", "password": "wrong guess"})
    for content_type, body in [
        ("text/plain", guess), ("text/plain;charset=UTF-8", guess), (None, guess),
        ("application/x-www-form-urlencoded", "username=kg_expert&password=wrong+guess"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nkg_expert\r\n--x--\r\n'),
    ]:
        for _ in range(10):
            answer = app.test_client().post("/api/v1/tokens", data=body, content_type=content_type,
                                            environ_base={"REMOTE_ADDR": VICTIM})
            assert answer.status_code == 415, (content_type, answer.status_code)
            assert answer.get_json()["error"]["code"] == "unsupported_media_type"
        for _ in range(10):  # the sign-in form, posted from another site: no CSRF token
            answer = app.test_client().post("/sign-in", data={"username": "kg_expert", "password": "wrong guess"},
                                            environ_base={"REMOTE_ADDR": VICTIM})
            assert answer.status_code == 400
    assert failures_from(session, VICTIM) == 0
    # The victim signs in at once, on the API and the pages, while the attacker still waits.
    assert sign_in_api(app, "kg_expert", PASSWORD).status_code == 201
    assert sign_in_page(app, "kg_expert", PASSWORD).status_code == 303
    assert sign_in_api(app, "kg_expert", PASSWORD, addr=ATTACKER).status_code == 429


def test_a_workshop_behind_one_address_signs_in_promptly(app, people, clock, session):
    """Twenty people share the venue's address; each mistypes twice, then signs in."""
    venue = "192.0.2.50"
    names = [f"participant_{n:02d}" for n in range(20)]
    for name in names:
        services.add_user(session, SYSTEM, username=name, agency_code="KG-BS", roles=["national_expert"], password=PASSWORD)
    session.commit()
    for n, name in enumerate(names):
        for typo in ("correct horse battery stapel", "Correct horse battery staple"):
            answer = sign_in_page(app, name, typo, addr=venue) if n % 2 else sign_in_api(app, name, typo, addr=venue)
            assert answer.status_code == 401
    assert failures_from(session, venue) == 40
    for n, name in enumerate(names):
        if n % 2:
            assert sign_in_page(app, name, PASSWORD, addr=venue).status_code == 303
        else:
            assert sign_in_api(app, name, PASSWORD, addr=venue).status_code == 201
    assert failures_from(session, venue) == 0


def test_an_address_is_slowed_only_past_a_rooms_worth_of_failures_and_briefly(app, people, clock):
    busy = "10.9.9.9"
    for _ in range(100):
        assert sign_in_api(app, random_name(), "wrong guess", addr=busy).status_code == 401
    assert sign_in_api(app, "uz_expert", PASSWORD, addr=busy).status_code == 201  # a hundred: still none
    assert sign_in_api(app, random_name(), "wrong guess", addr=busy).status_code == 401
    # The 101st failure: every name from that address waits a second, even with the right password…
    limited = sign_in_api(app, "uz_expert", PASSWORD, addr=busy)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert sign_in_page(app, "uz_expert", PASSWORD, addr=busy).status_code == 429
    # …a forged X-Forwarded-For does not make it another address (no proxy is trusted)…
    assert sign_in_api(app, "uz_expert", PASSWORD, addr=busy, **{"X-Forwarded-For": VICTIM}).status_code == 429
    # …another address is not affected at all…
    assert sign_in_api(app, "uz_expert", PASSWORD, addr=VICTIM).status_code == 201
    # …and however long the guessing goes on, the wait stays short.
    waits = fail_patiently(clock, lambda: sign_in_api(app, random_name(), "wrong guess", addr=busy), 30)
    assert waits[:6] == [1, 2, 4, 8, 16, 30] and max(waits) == 30


def test_an_ipv6_network_counts_as_one_address(app, people, clock):
    assert address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1" and address_key("unknown") == "unknown"
    for n in range(101):
        assert sign_in_api(app, random_name(), "wrong guess", addr=f"2001:db8:1:2::{n + 1:x}").status_code == 401
    assert sign_in_api(app, "uz_expert", PASSWORD, addr="2001:db8:1:2::ffff").status_code == 429
    assert sign_in_api(app, "uz_expert", PASSWORD, addr="2001:db8:1:3::1").status_code == 201


# --- behind a proxy ---------------------------------------------------------------------------------


@pytest.fixture
def behind_a_proxy(connection_database, tmp_path):
    """The application behind one proxy that adds the client's address to X-Forwarded-For
    (ACCORD_PROXIES=1), as nginx in front of gunicorn on the same host."""
    settings = Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_PROXIES": "1"})
    return create_app(settings, database=connection_database, TESTING=True)


PROXY = "127.0.0.1"


def via_proxy(app, username: str, password: str, forwarded_for: str):
    return app.test_client().post("/api/v1/tokens", json={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": PROXY}, headers={"X-Forwarded-For": forwarded_for})


def test_behind_a_trusted_proxy_each_client_is_its_own_address(behind_a_proxy, people, clock, session):
    for _ in range(101):  # past a room's worth, with the victim's name among them
        assert via_proxy(behind_a_proxy, random_name(), "wrong guess", ATTACKER).status_code == 401
    for _ in range(3):
        assert via_proxy(behind_a_proxy, "kg_expert", "wrong guess", ATTACKER).status_code in (401, 429)
    assert failures_from(session, PROXY) == 0 and failures_from(session, ATTACKER) >= 101
    assert via_proxy(behind_a_proxy, "kg_expert", PASSWORD, ATTACKER).status_code == 429
    # A hop the attacker wrote (naming the victim) is not trusted: only the one the proxy added.
    assert via_proxy(behind_a_proxy, "kg_expert", PASSWORD, f"{VICTIM}, {ATTACKER}").status_code == 429
    # Everyone else behind the same proxy signs in at once.
    assert via_proxy(behind_a_proxy, "kg_expert", PASSWORD, VICTIM).status_code == 201
    assert via_proxy(behind_a_proxy, "uz_expert", PASSWORD, "192.0.2.8").status_code == 201


def test_behind_a_proxy_that_ends_https_the_session_cookie_is_secure(behind_a_proxy):
    client = behind_a_proxy.test_client()
    answer = client.get("/sign-in", environ_base={"REMOTE_ADDR": PROXY},
                        headers={"X-Forwarded-For": "192.0.2.7", "X-Forwarded-Proto": "https"})
    assert answer.status_code == 200 and "; Secure" in answer.headers["Set-Cookie"]
    plain = behind_a_proxy.test_client().get("/sign-in", environ_base={"REMOTE_ADDR": PROXY})
    assert "; Secure" not in plain.headers["Set-Cookie"]


# --- the bookkeeping stays bounded ----------------------------------------------------------------


def table_sizes(session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(SignInFailure)),
            session.scalar(select(func.count()).select_from(Credential)))


def test_failures_sessions_and_tokens_do_not_pile_up(app, people, clock, session):
    """A hundred simulated minutes of a failure every minute from changing addresses, and a
    token issued every minute, every other one revoked: each table holds what still counts
    (and the token revoked last, until the next sign-in); a month later, once every token has
    expired, a couple of sign-ins leave nothing dead behind."""
    client = app.test_client()
    live_tokens, failures_this_hour = 0, []
    for step in range(100):
        clock.advance(60)
        assert sign_in_api(app, random_name(), "wrong guess", addr=f"10.3.{step % 200}.1").status_code == 401
        failures_this_hour = [t for t in failures_this_hour if t > clock.now - FAILURE_MEMORY] + [clock.now]
        token = sign_in_api(app, "kz_expert", PASSWORD).get_json()["token"]
        revoked = step % 2 == 1
        if revoked:
            assert client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {token}"}).status_code == 204
        else:
            live_tokens += 1
        assert table_sizes(session) == (len(failures_this_hour), live_tokens + revoked)
    assert len(failures_this_hour) == 60
    clock.advance(timedelta(days=31).total_seconds())
    rounds = -(-max(live_tokens, len(failures_this_hour)) // PRUNE_BATCH)
    for n in range(rounds):
        assert sign_in_api(app, "kz_expert", "wrong guess", addr=f"10.4.{n}.1").status_code == 401
    assert table_sizes(session) == (rounds, 0)  # only the failures just made
