"""Password hashing and policy."""

from __future__ import annotations

import re
import unicodedata

import pytest
from argon2 import PasswordHasher, profiles

from accord.workflow import passwords
from accord.workflow.errors import InvalidInput
from accord.workflow.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap parameters for every test here; each test's swap is undone afterwards."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


# ---------------------------------------------------------------- hashing


def test_hash_and_verify_round_trip() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")


def test_hashes_are_salted() -> None:
    assert hash_password("same password here") != hash_password("same password here")


def test_wrong_password_is_false() -> None:
    stored = hash_password("correct horse battery staple")
    assert verify_password(stored, "correct horse battery stapler") is False
    assert verify_password(stored, "") is False


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "$argon2id$v=19$m=8,t=1,p=1$bm90IGEgc2FsdA$bm90IGEgaGFzaA",  # well-formed, wrong
        "$argon2id$v=19$m=8,t=1,p=1$$",
        "$2b$12$abcdefghijklmnopqrstuuJ3e0sSOWQ2qgQ/7.Yq5Z9k0oR1Pq2e",  # bcrypt
        "éééé",  # not even ASCII
    ],
)
def test_unreadable_hash_is_false_not_an_error(garbage: str) -> None:
    assert verify_password(garbage, "correct horse battery staple") is False


def test_lone_surrogate_in_password_is_false_not_an_error() -> None:
    stored = hash_password("correct horse battery staple")
    assert verify_password(stored, "\ud800 horse") is False


def test_unicode_is_normalised() -> None:
    composed = "caf\u00e9 au lait sans sucre"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert verify_password(hash_password(composed), decomposed)


def test_needs_rehash() -> None:
    assert needs_rehash(hash_password("correct horse battery staple")) is False
    assert needs_rehash("garbage") is True
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert needs_rehash(stronger.hash("correct horse battery staple")) is True


def test_production_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher())
    stored = hash_password("correct horse battery staple")
    match = re.match(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert match is not None
    memory_kib, time_cost, _ = map(int, match.groups())
    # OWASP's floor for Argon2id: 19 MiB with t=2 (or more memory for t=1).
    assert memory_kib >= 19 * 1024 and time_cost >= 2
    assert verify_password(stored, "correct horse battery staple")


def test_fast_hashing_for_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher())
    production_hash = hash_password("correct horse battery staple")
    passwords.use_fast_hashing_for_tests()
    fast = hash_password("correct horse battery staple")
    assert fast.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(fast, "correct horse battery staple")
    # Hashes made with the production hasher still verify, and are flagged for rehash.
    assert verify_password(production_hash, "correct horse battery staple")
    assert needs_rehash(production_hash)


# ---------------------------------------------------------------- policy


def refusal(password: str, username: str | None = None) -> str:
    with pytest.raises(InvalidInput) as caught:
        check_password_policy(password, username=username)
    assert caught.value.code == "weak_password"
    return caught.value.message


def test_strong_passphrase_is_accepted() -> None:
    check_password_policy("correct horse battery staple", username="alice")
    check_password_policy("Tr0ub4dor&3 jumps at dawn")
    check_password_policy("zz8374619205")  # mostly random digits: fine
    check_password_policy("ünïcødé pässwörd wïth äccents")


def test_exactly_twelve_characters_is_enough() -> None:
    check_password_policy("k8#Lm2@pQ9vz")


def test_too_short() -> None:
    assert "too short" in refusal("k8#Lm2@pQ9v")  # 11 characters
    assert "too short" in refusal("")


def test_too_long() -> None:
    long_but_varied = " ".join(f"clause {n} of the annex" for n in range(200))
    assert "too long" in refusal(long_but_varied[:1025])
    check_password_policy(long_but_varied[:1024])


def test_too_few_distinct_characters() -> None:
    assert "different characters" in refusal("aaaaaaaaaaaaaaaa")
    assert "different characters" in refusal("abababababababab")
    assert "different characters" in refusal("1111222233334444")


@pytest.mark.parametrize("password", ["alice-in-wonderland", "my name is ALICE ok", "xxAlicexx123"])
def test_contains_username(password: str) -> None:
    assert "username" in refusal(password, username="Alice")


def test_short_username_is_not_checked() -> None:
    check_password_policy("ed was here and left early", username="ed")


@pytest.mark.parametrize(
    "password",
    [
        "Password2024!",
        "password1234",
        "PASSWORD1234",
        "2024Password!",
        "P@ssw0rd2024",
        "qwertyuiop123",
        "123456789012",
        "iloveyou1234",
        "1q2w3e4r5t6y",
        "Dragon!!!!!!",
        "Welcome2025!!",
        "letmein123456",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert "too common" in refusal(password)


@pytest.mark.parametrize(
    "password", ["abcdeabcdeabcde", "qwertqwertqwert", "AbCdEaBcDeAbCdE", "xyz12xyz12xyz12"]
)
def test_repeated_patterns_are_refused(password: str) -> None:
    assert "repeated pattern" in refusal(password)


def test_repeated_pattern_with_decoration() -> None:
    assert "repeated pattern" in refusal("abcdeabcdeabcde2024!")


def test_common_password_list() -> None:
    words = passwords._common_passwords()
    assert len(words) >= 300
    assert all(word == word.strip().lower() and word for word in words)
    assert {"password", "123456", "qwerty", "iloveyou1234"} <= words
