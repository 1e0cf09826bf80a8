"""Password hashing (Argon2id) and the password policy.

Hashing uses argon2-cffi's defaults (Argon2id, t=3, m=64 MiB, p=4: RFC 9106's
low-memory profile, above OWASP's minimum of m=19 MiB, t=2, p=1). Stored hashes carry
their parameters, so raising them later only needs ``needs_rehash`` at login.

Passwords are NFKC-normalised before hashing and checking (NIST SP 800-63B, 5.1.1.2):
the same password typed on two keyboards can arrive as different code points ("é" as
one or two). This is part of the stored format: changing it would lock users out.

The policy follows NIST 800-63B rather than composition rules: a length floor, a
ceiling against hashing abuse, and a refusal of passwords attackers try first.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
import unicodedata

from argon2 import PasswordHasher, profiles
from argon2.exceptions import VerificationError

from .errors import InvalidInput

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "check_password_policy",
    "hash_password",
    "needs_rehash",
    "use_fast_hashing_for_tests",
    "verify_password",
]

log = logging.getLogger(__name__)

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_DISTINCT = 5
_MIN_USERNAME_CHECKED = 3

_hasher = PasswordHasher()


def use_fast_hashing_for_tests() -> None:
    """Swap in argon2's cheapest parameters (t=1, m=8 KiB, p=1) for test suites.

    The same functions run; only the cost changes. Hashes made this way are flagged by
    needs_rehash() under the production hasher, so they can never linger unnoticed.
    Never call this outside tests.
    """
    global _hasher
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (salt and parameters included) of ``password``."""
    return _hasher.hash(_normalize(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``. False, never an exception, for a
    wrong password or a hash that cannot be read (an unreadable one is also logged)."""
    if not stored_hash:
        return False  # an account without a password (never set, or disabled)
    try:
        return _hasher.verify(stored_hash, _normalize(password))
    except VerificationError:  # wrong password (VerifyMismatchError), or a corrupt hash
        return False
    except ValueError:
        # InvalidHashError (not an argon2 hash at all), or a UnicodeEncodeError (non-ASCII
        # hash, or lone surrogates in the password). The hash itself is never logged.
        log.warning("stored password hash could not be read")
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than the current ones, and
    should be replaced after the next successful login. True for an unreadable hash."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except ValueError:
        return True


# ---------------------------------------------------------------- policy


@functools.cache
def _common_passwords() -> frozenset[str]:
    # Loaded on first use, not at import: most processes never check a new password.
    text = (
        importlib.resources.files("accord.workflow")
        .joinpath("data", "common_passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


# Non-letters at either end: "Password2024!", "2024password", "!!dragon!!".
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def _is_repetition(text: str) -> bool:
    """One pattern written at least twice, the last copy possibly cut short:
    "abcabcabcabc", "qwerqwerqwe", "121212121212"."""
    n = len(text)
    return any(text == (text[:p] * (n // p + 1))[:n] for p in range(1, n // 2 + 1))


def _refuse(sentence: str) -> InvalidInput:
    return InvalidInput(sentence, code="weak_password")


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise InvalidInput (code "weak_password") with a sentence for the person if
    ``password`` may not be used; return None if it may."""
    # The ceiling comes first so that nothing below ever works on a huge string.
    if len(password) > MAX_LENGTH:
        raise _refuse(f"The password is too long: at most {MAX_LENGTH:,} characters.")
    password = _normalize(password)
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse("The password contains characters that cannot be used.") from None
    if len(password) < MIN_LENGTH:
        raise _refuse(
            f"The password is too short: use at least {MIN_LENGTH} characters. "
            "A few unrelated words make a long password that is easy to remember."
        )
    if len(set(password)) < MIN_DISTINCT:
        raise _refuse(f"The password must use at least {MIN_DISTINCT} different characters.")
    lowered = password.casefold()
    if username is not None:
        name = username.strip().casefold()
        if len(name) >= _MIN_USERNAME_CHECKED and name in lowered:
            raise _refuse("The password must not contain the username.")
    core = _EDGES.sub("", lowered)
    common = _common_passwords()
    if lowered in common or core in common:
        raise _refuse(
            "This password is too common: it is among the first that attackers try, "
            "even with digits or symbols added. Choose a phrase of unrelated words."
        )
    # The core is judged on its own only when it is most of the password, so that
    # "zz" followed by ten random digits is not refused for its "zz".
    if _is_repetition(lowered) or (2 * len(core) >= len(lowered) and _is_repetition(core)):
        raise _refuse("The password must not be a repeated pattern such as “abcabcabc”.")
