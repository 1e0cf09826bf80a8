"""Replaying a session: a browser cookie (a copy of it, or another browser's session) and an API
token, after signing out, changing the password (on the account page, or an administrator's
`accord users set-password`), disabling the account, and enabling it again; and the password
change itself: what it checks, what a refusal leaves, what it records.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.errors import InvalidInput
from accord.workflow.models import AuditEvent, Credential, CredentialKind, SignInFailure, User, utcnow
from accord.workflow.services.auth import change_password, set_password

from ..factories import PASSWORD, build_world
from ..pages.conftest import PageClient
from .conftest import full_snapshot

NEW_PASSWORD = "a brand new passphrase for kz"


class Credentials:
    """Everything that lets kz_expert in: browser session A (the one that acts), a copy of A's
    cookie taken now, browser session B (another machine), and an API token."""

    def __init__(self, app, world) -> None:
        self.app = app
        self.a = PageClient(app.test_client()).sign_in("kz_expert")
        self.a_cookie = self.a.client.get_cookie("accord_session").value
        self.a_csrf = self.a.csrf
        self.b = PageClient(app.test_client()).sign_in("kz_expert")
        answer = app.test_client().post("/api/v1/tokens", json={"username": "kz_expert", "password": PASSWORD})
        self.token = answer.get_json()["token"]

    def copy_of_a(self):
        client = self.app.test_client()
        client.set_cookie("accord_session", self.a_cookie)
        return client

    def alive(self) -> dict[str, bool]:
        """Which credentials still let kz_expert in."""
        api = self.app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {self.token}"})
        return {
            "session A": self.a.get("/").status_code == 200,
            "copy of A's cookie": self.copy_of_a().get("/").status_code == 200,
            "session B": self.b.get("/").status_code == 200,
            "API token": api.status_code == 200,
        }


@pytest.fixture
def creds(app, world, session) -> Credentials:
    session.commit()
    return Credentials(app, world)


ALL_DEAD = {"session A": False, "copy of A's cookie": False, "session B": False, "API token": False}


def test_everything_works_to_begin_with(creds):
    assert creds.alive() == {k: True for k in ALL_DEAD}


def test_signing_out_ends_that_session_and_its_copies_only(creds):
    assert creds.a.post("/sign-out").status_code == 303
    assert creds.alive() == {"session A": False, "copy of A's cookie": False, "session B": True, "API token": True}


def test_a_copied_cookie_cannot_post_a_form_after_signing_out(creds, session, world):
    rec = world.draft(session)
    session.commit()
    creds.a.post("/sign-out")
    before = full_snapshot(session)
    replay = creds.copy_of_a().post(f"/recommendations/{rec.id}/transitions",
                                    data={"action": "submit", "csrf_token": creds.a_csrf})
    assert replay.status_code in (302, 400) and "/sign-in" in replay.headers.get("Location", "/sign-in")
    assert full_snapshot(session) == before


def test_changing_the_password_ends_every_other_session_and_token(creds, session):
    answer = creds.a.post("/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD,
    })
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    assert "Your password is changed." in creds.a.text("/account")
    # Session A carries on, on a fresh token: even a copy of its old cookie stops working.
    assert creds.alive() == {"session A": True, "copy of A's cookie": False, "session B": False, "API token": False}


def test_an_administrator_setting_the_password_ends_them_all(creds, session):
    set_password(session, SYSTEM, username="kz_expert", new_password=NEW_PASSWORD)
    session.commit()
    assert creds.alive() == ALL_DEAD


def test_disabling_the_account_ends_them_all_for_good(creds, session):
    services.set_user_active(session, SYSTEM, "kz_expert", active=False)
    session.commit()
    assert creds.alive() == ALL_DEAD
    # Enabling the account again does not bring back what was copied before.
    services.set_user_active(session, SYSTEM, "kz_expert", active=True)
    session.commit()
    assert creds.alive() == ALL_DEAD
    assert PageClient(creds.app.test_client()).sign_in("kz_expert").get("/").status_code == 200


def test_an_expired_session_or_token_is_refused(creds, session):
    session.execute(update(Credential).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert creds.alive() == ALL_DEAD


# --- the password change ------------------------------------------------------------------------


def state_of_kz(session) -> tuple:
    session.expire_all()
    user = session.scalar(select(User).where(User.username == "kz_expert"))
    live = session.scalar(select(func.count()).select_from(Credential).where(
        Credential.user_id == user.id, Credential.revoked_at.is_(None)))
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    return user.password_hash, live, events


def failures(session) -> int:
    return session.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.username == "kz_expert"))


def test_the_account_page_is_linked_from_every_page_and_needs_a_session(creds):
    assert 'href="/account"' in creds.a.text("/")
    page = creds.a.text("/account")
    assert "kz_expert" in page and 'name="current_password"' in page and 'name="csrf_token"' in page
    visitor = creds.app.test_client()
    assert visitor.get("/account").status_code == 302
    assert visitor.post("/account/password", data={}).status_code == 400  # no CSRF token, no session


@pytest.mark.parametrize(("new", "repeat", "sentence"), [
    ("short pass", "short pass", "too short"),
    ("password1234", "password1234", "too common"),
    ("kz_expert is my name", "kz_expert is my name", "must not contain the username"),
    ("abcdeabcdeabcde", "abcdeabcdeabcde", "repeated pattern"),
    (PASSWORD, PASSWORD, "is the current one"),
    (NEW_PASSWORD, NEW_PASSWORD + "!", "are not the same"),
    ("", "", "too short"),
])
def test_a_refused_new_password_changes_nothing(creds, session, new, repeat, sentence):
    before, snapshot = state_of_kz(session), full_snapshot(session)
    answer = creds.a.post("/account/password", {"current_password": PASSWORD, "new_password": new, "new_password_repeat": repeat})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert sentence in page
    assert (PASSWORD not in page) and (not new or new not in page.replace("kz_expert", ""))  # never echoed
    assert state_of_kz(session) == before and full_snapshot(session) == snapshot
    assert failures(session) == 0
    assert creds.alive() == {k: True for k in ALL_DEAD}


def test_a_wrong_current_password_changes_nothing_but_counts_as_a_failed_sign_in(creds, session, clock):
    before = state_of_kz(session)
    form = {"current_password": "not my password at all", "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
    answer = creds.a.post("/account/password", form)
    assert answer.status_code == 422 and "The current password is not correct." in answer.get_data(as_text=True)
    assert state_of_kz(session) == before and failures(session) == 1
    for _ in range(3):
        assert creds.a.post("/account/password", form).status_code == 422
    # Four failures: the form is slowed down like the sign-in, even with the right password now…
    limited = creds.a.post("/account/password", dict(form, current_password=PASSWORD))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert state_of_kz(session) == before and failures(session) == 4
    # …and so is signing in as kz_expert from this address; from another, it is not.
    for addr, status in (("127.0.0.1", 429), ("192.0.2.99", 303)):
        guest = PageClient(creds.app.test_client())
        token = guest.csrf_token("/sign-in")
        answer = guest.client.post("/sign-in", data={"username": "kz_expert", "password": PASSWORD, "csrf_token": token},
                                   environ_base={"REMOTE_ADDR": addr})
        assert answer.status_code == status, addr
    # The delay over, the right current password changes it.
    clock.advance(1)
    changed = creds.a.post("/account/password", dict(form, current_password=PASSWORD))
    assert changed.status_code == 303 and state_of_kz(session) != before


def test_a_changed_password_is_the_only_one_that_signs_in(creds, session, app):
    creds.a.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    api = app.test_client()
    assert api.post("/api/v1/tokens", json={"username": "kz_expert", "password": PASSWORD}).status_code == 401
    assert api.post("/api/v1/tokens", json={"username": "kz_expert", "password": NEW_PASSWORD}).status_code == 201


def test_the_change_is_an_audit_event_without_the_password(creds, session):
    creds.a.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    session.expire_all()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)).all()
    change, renewed = events[1], events[0]
    assert (change.action, change.actor) == ("user.password_change", "kz_expert")
    assert change.payload == '{"ended":3,"username":"kz_expert"}'  # sessions A and B, the API token
    assert renewed.action == "session.start"
    every = " ".join(f"{e.payload} {e.reason}" for e in session.scalars(select(AuditEvent)))
    assert NEW_PASSWORD not in every and PASSWORD not in every


def test_the_service_checks_the_same_things(session, world):
    """change_password as the engine's use case: None and a recorded failure for a wrong
    current password; the policy's refusal otherwise; a fresh session only when asked."""
    user = world["kz_expert"]
    assert change_password(session, user, "wrong password here", NEW_PASSWORD) is None
    assert failures(session) == 1
    with pytest.raises(InvalidInput) as refused:
        change_password(session, user, PASSWORD, "short")
    assert refused.value.code == "weak_password"
    done = change_password(session, user, PASSWORD, NEW_PASSWORD)
    assert done is not None and done.session is None
    renewed = change_password(session, user, NEW_PASSWORD, PASSWORD + " again", new_session=True)
    assert renewed.session is not None and renewed.session.record.kind is CredentialKind.browser
    assert failures(session) == 0  # a successful change clears the count, as a sign-in does


# --- accord users set-password ------------------------------------------------------------------


@pytest.fixture
def accord_world(fresh_database, monkeypatch, capsys, tmp_path):
    from accord.web.cli import main

    monkeypatch.setenv("ACCORD_DATABASE_URL", fresh_database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path / "instance"))
    with fresh_database.write() as session:
        world = build_world(session)
        token = services.issue_token(session, world["kz_expert"]).token
        browser = services.issue_token(session, world["kz_expert"], CredentialKind.browser).token

    def run(*args: str, stdin: str = ""):
        import io
        import sys

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        status = main(list(args))
        return status, capsys.readouterr().err

    run.database, run.tokens = fresh_database, (token, browser)
    return run


def test_set_password_from_the_command_line(accord_world):
    status, err = accord_world("users", "set-password", "KZ_Expert", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert status == 0, err
    assert err.strip() == "Set the password of kz_expert; sessions and API tokens ended: 2."
    with accord_world.database.write() as session:
        api, browser = accord_world.tokens
        assert services.find_token(session, api) is None
        assert services.find_token(session, browser, CredentialKind.browser) is None
        assert services.authenticate(session, "kz_expert", NEW_PASSWORD) is not None
        assert services.authenticate(session, "kz_expert", PASSWORD) is None
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert (last.action, last.actor, last.payload) == ("user.set_password", "system", '{"ended":2,"username":"kz_expert"}')


@pytest.mark.parametrize(("args", "stdin", "mentions"), [
    (("kz_expert",), "short\n", "too short"),
    (("kz_expert",), "password123456\n", "too common"),
    (("nobody_here",), NEW_PASSWORD + "\n", "unknown user"),
    (("kz_expert",), "\n", "too short"),
])
def test_set_password_refusals_are_one_line_and_change_nothing(accord_world, args, stdin, mentions):
    def state():
        with accord_world.database.read() as session:
            return (session.scalar(select(User.password_hash).where(User.username == "kz_expert")),
                    session.scalar(select(func.count()).select_from(AuditEvent)),
                    session.scalar(select(func.count()).select_from(Credential).where(Credential.revoked_at.is_(None))))

    before = state()
    status, err = accord_world("users", "set-password", *args, "--password-stdin", stdin=stdin)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accord: ") and mentions in lines[0].lower()
    assert state() == before
