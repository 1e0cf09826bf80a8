"""Password storage at OWASP strength, checked on the hasher the application really uses (the
test suite swaps in cheap parameters for speed: here a fresh copy of `workflow.passwords` shows
the production one), and the policy on every way a password is set."""

from __future__ import annotations

import importlib.util
import re

import pytest
from argon2 import Type, profiles
from sqlalchemy import select

from accord.workflow import passwords as engine_passwords
from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.errors import InvalidInput
from accord.workflow.models import User
from accord.workflow.services.auth import change_password, set_password

from ..factories import PASSWORD
from .conftest import People

#: OWASP Password Storage Cheat Sheet: Argon2id with at least 19 MiB, 2 iterations, 1 lane.
OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME, OWASP_MIN_LANES = 19 * 1024, 2, 1


@pytest.fixture(scope="module")
def production_passwords():
    """`workflow.passwords` as the application loads it, untouched by the suite's swap."""
    spec = importlib.util.spec_from_file_location("accord.workflow.production_passwords", engine_passwords.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_production_hasher_is_argon2id_at_owasp_strength(production_passwords):
    hasher = production_passwords._hasher
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert hasher.time_cost >= OWASP_MIN_TIME
    assert hasher.parallelism >= OWASP_MIN_LANES
    assert hasher.salt_len >= 16 and hasher.hash_len >= 32


def test_a_stored_hash_says_so(production_passwords):
    stored = production_passwords.hash_password("correct horse battery staple")
    found = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22,}\$[A-Za-z0-9+/]{43,}", stored)
    assert found, stored
    memory, time, lanes = map(int, found.groups())
    assert memory >= OWASP_MIN_MEMORY_KIB and time >= OWASP_MIN_TIME and lanes >= OWASP_MIN_LANES
    assert production_passwords.verify_password(stored, "correct horse battery staple")
    assert not production_passwords.verify_password(stored, "correct horse battery stapler")


def test_a_weaker_hash_is_replaced_at_the_next_sign_in(production_passwords):
    from argon2 import PasswordHasher

    weak = PasswordHasher.from_parameters(profiles.CHEAPEST).hash("correct horse battery staple")
    assert production_passwords.needs_rehash(weak)


def test_the_suite_runs_on_cheap_parameters_of_the_same_algorithm():
    """So that the speed-up above is all it is: same functions, same algorithm."""
    assert engine_passwords._hasher.type is Type.ID
    assert engine_passwords.hash_password("x" * 12).startswith("$argon2id$")


# --- the policy, wherever a password is set ----------------------------------------------------------

WEAK = {
    "too short": "Tr0ub4dor&3",  # 11 characters
    "too common": "password1234",
    "too common, decorated": "!!Qwertyuiop2024",
    "the username": "x kz_expert_two x 1",  # kz_expert_two's, and holds kz_expert's
}


def test_the_policy_floor_is_twelve_characters():
    assert engine_passwords.MIN_LENGTH == 12
    engine_passwords.check_password_policy("vivid otter 9")  # 13: fine
    with pytest.raises(InvalidInput, match="too short"):
        engine_passwords.check_password_policy("vivid otter")


@pytest.mark.parametrize("kind", sorted(WEAK))
def test_every_way_of_setting_a_password_applies_the_policy(session, world, people: People, kind):
    weak = WEAK[kind]
    hash_before = session.scalar(select(User.password_hash).where(User.username == "kz_expert"))
    refusals = []
    for attempt in (
        lambda: services.add_user(session, SYSTEM, username="kz_expert_two", agency_code="KZ-BS",
                                  roles=["approver"], password=weak),
        lambda: set_password(session, SYSTEM, username="kz_expert", new_password=weak),
        lambda: change_password(session, world["kz_expert"], PASSWORD, weak),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        refusals.append(refused.value.code)
    assert refusals == ["weak_password"] * 3
    session.rollback()
    page = people.request("admin", "POST", "/admin/users", data={
        "username": "kz_expert_two", "agency_code": "KZ-BS", "roles": "approver", "password": weak,
        "display_name": "Two",
    })
    assert page.status_code == 422 and weak not in page.get_data(as_text=True)
    account = people.request("kz_expert", "POST", "/account/password", data={
        "current_password": PASSWORD, "new_password": weak, "new_password_repeat": weak,
    })
    assert account.status_code == 422
    session.expire_all()
    assert session.scalar(select(User.password_hash).where(User.username == "kz_expert")) == hash_before
    assert session.scalar(select(User.id).where(User.username == "kz_expert_two")) is None
