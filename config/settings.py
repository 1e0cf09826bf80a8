"""Settings: defaults, overridden by environment variables.

| variable | default | what it does |
| --- | --- | --- |
| ACCORD_ENV | `development` | `production` makes a real secret key mandatory (below); any other value than `development` or `production` is refused |
| ACCORD_DATABASE_URL | SQLite file `accord.db` in the instance folder | the database |
| ACCORD_INSTANCE_PATH | `instance/` in the current directory | the SQLite file and the generated key |
| ACCORD_SECRET_KEY | in development, a random key made once and kept in the instance folder; in production, none: it must be set | signs session cookies and CSRF tokens |
| ACCORD_ANSWER_CACHE_MB | `32` | memory each server process may keep pages and API answers in while the data they show is unchanged (`web/answer_cache.py`); `0` turns it off |
| ACCORD_PROXIES | `0` | how many reverse proxies or load balancers stand in front of Accord, each adding to X-Forwarded-For and setting X-Forwarded-Proto; the client's address (which sign-in limits count) and scheme (which Secure cookies need) are then read that many hops back. With `0`, those headers are ignored: anyone could forge them |

In production (`ACCORD_ENV=production`) the application refuses to start, with one line
saying why, when ACCORD_SECRET_KEY is missing, a known placeholder ("dev", "change-me",
"secret", the example key of Flask's documentation, …), shorter than 32 characters, or easier
to guess than about 2^128 tries as zxcvbn estimates it (a sequence such as
"abcdefghijklmnopqrstuvwxyz012345", a repeated word, a keyboard walk, or simply too few random
characters: `secrets.token_urlsafe(32)` passes, `secrets.token_hex(16)` does not). Nothing
is generated there: several processes or hosts behind a load balancer must sign cookies with
one key, and a key kept only on one host's disk is lost with it. Make one with
`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEVELOPMENT = "development"
PRODUCTION = "production"
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)

DEFAULT_ANSWER_CACHE_MB = 32

MIN_SECRET_KEY_LENGTH = 32
#: The fewest guesses a production key may cost, as zxcvbn estimates them (log10): 10^38 is
#: about 2^128. A key of secrets.token_urlsafe(32) estimates at 10^41 or more; sequences,
#: repeats, keyboard walks and words at far fewer, whatever their length. zxcvbn counts a
#: random character as ten guesses, so this also asks for at least 38 random characters.
MIN_SECRET_KEY_GUESSES_LOG10 = 38
#: zxcvbn reads at most this many characters (its own limit): a key is judged by its start.
_ZXCVBN_MAX_LENGTH = 72

#: Keys seen in tutorials, templates and `.env.example` files, compared lower-case with
#: everything but letters and digits removed ("Change-Me!" is "changeme").
PLACEHOLDER_KEYS = frozenset({
    "dev", "development", "devkey", "devsecret", "test", "testing", "testkey", "debug",
    "secret", "secretkey", "mysecret", "mysecretkey", "yoursecretkey", "supersecret",
    "supersecretkey", "topsecret", "password", "default", "defaultkey", "key", "flask",
    "flasksecretkey", "accord", "accordsecretkey", "changeme", "changethis", "changeit",
    "pleasechangeme", "replaceme", "replacethis", "insecure", "notsecret", "notasecret",
    "xxx", "todo", "fixme", "none", "null", "example", "sample", "abc", "abc123", "12345",
    "123456", "1234567890", "qwerty", "letmein",
    # The key printed in Flask's documentation ("How to generate good secret keys").
    "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
})  # fmt: skip
#: Beginnings that only a placeholder has ("change-me-in-production", "insecure-dev-key…").
PLACEHOLDER_PREFIXES = ("changeme", "changethis", "replaceme", "yoursecret", "insecure", "notsecret", "pleasechange")

_HOW_TO_MAKE_ONE = (
    "production needs a long random key "
    "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
)


class ConfigurationError(ValueError):
    """A setting the application cannot start with; the message is one line for a person."""


def _megabytes(env: Mapping[str, str], name: str, default: int) -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ConfigurationError(f"{name} is {value!r}; use a whole number of megabytes (0 for none).")
    return int(value)


def _proxies(env: Mapping[str, str]) -> int:
    value = (env.get("ACCORD_PROXIES") or "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ConfigurationError(f"ACCORD_PROXIES is {value!r}; use the number of proxies in front of Accord "
                                 "that set X-Forwarded-For (0 for none).")
    return int(value)


def secret_key_problem(key: str) -> str | None:
    """Why `key` may not sign production cookies, in one sentence; None when it may."""
    if not key.strip():
        return f"ACCORD_SECRET_KEY is not set; {_HOW_TO_MAKE_ONE}."
    squeezed = re.sub(r"[^a-z0-9]", "", key.lower())
    if _is_placeholder(squeezed):
        return f"ACCORD_SECRET_KEY is a well-known placeholder; {_HOW_TO_MAKE_ONE}."
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"ACCORD_SECRET_KEY is too short ({len(key)} characters); {_HOW_TO_MAKE_ONE}."
    if _guesses_log10(key) < MIN_SECRET_KEY_GUESSES_LOG10:
        return (
            "ACCORD_SECRET_KEY is too easy to guess (a pattern, repeated words or too few random "
            f"characters); {_HOW_TO_MAKE_ONE}."
        )
    return None


def _guesses_log10(key: str) -> float:
    from zxcvbn import zxcvbn  # its word lists take a tenth of a second to load: only when asked

    return float(zxcvbn(key[:_ZXCVBN_MAX_LENGTH], max_length=_ZXCVBN_MAX_LENGTH)["guesses_log10"])


def _is_placeholder(squeezed: str) -> bool:
    if not squeezed or squeezed in PLACEHOLDER_KEYS or squeezed.startswith(PLACEHOLDER_PREFIXES):
        return True
    # A placeholder said again and again to pass a length check: "changemechangemechangeme…".
    n = len(squeezed)
    return any(
        squeezed[:period] in PLACEHOLDER_KEYS and squeezed == (squeezed[:period] * (n // period + 1))[:n]
        for period in range(1, n // 2 + 1)
    )


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path
    secret_key: str
    environment: str = DEVELOPMENT
    #: Megabytes per process for answers kept while the data is unchanged; 0: none kept.
    answer_cache_mb: int = DEFAULT_ANSWER_CACHE_MB
    #: Reverse proxies in front of Accord whose X-Forwarded-For/-Proto are trusted; 0: none.
    proxies: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of this environment. ConfigurationError for an unknown ACCORD_ENV: a
        typo must not quietly run a production deployment as a development one."""
        env = os.environ if env is None else env
        environment = (env.get("ACCORD_ENV") or DEVELOPMENT).strip().lower()
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"ACCORD_ENV is {env.get('ACCORD_ENV')!r}; use {DEVELOPMENT} (the default) or {PRODUCTION}."
            )
        instance = Path(env.get("ACCORD_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
        url = env.get("ACCORD_DATABASE_URL") or f"sqlite:///{instance / 'accord.db'}"
        return cls(
            database_url=url,
            instance_path=instance,
            secret_key=env.get("ACCORD_SECRET_KEY") or "",
            environment=environment,
            answer_cache_mb=_megabytes(env, "ACCORD_ANSWER_CACHE_MB", DEFAULT_ANSWER_CACHE_MB),
            proxies=_proxies(env),
        )

    @property
    def production(self) -> bool:
        return self.environment == PRODUCTION

    def check(self) -> None:
        """Raise ConfigurationError if the application may not start with these settings."""
        if self.production:
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ConfigurationError(problem)

    def ensure_instance(self) -> None:
        """Create the instance folder (for the SQLite file and the generated key)."""
        self.instance_path.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The configured key; in development without one, a key generated once and kept in
        the instance folder, so sessions survive a restart without anyone ever running on a
        known default. In production, ConfigurationError unless a good key is configured."""
        self.check()
        if self.secret_key:
            return self.secret_key
        self.ensure_instance()
        return _kept_key(self.instance_path / "secret_key")


def _read_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _kept_key(path: Path) -> str:
    """The key in `path`, made first if there is none. It is written whole to a file of its
    own, synced, and then linked into place, which fails if another process got there first:
    a start killed halfway leaves no empty key, and two starting at once share one key."""
    if key := _read_key(path):
        return key
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
            file.flush()
            os.fsync(file.fileno())
        if path.exists() and not _read_key(path):
            path.unlink(missing_ok=True)  # empty: left by an older version's interrupted start
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return _read_key(path)
