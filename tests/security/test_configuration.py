"""A production run refuses to start without a real secret key (ACCORD_ENV=production); a
development run makes one up and keeps it."""

from __future__ import annotations

import importlib
import re
import stat
import sys

import pytest

from accord.config.settings import ConfigurationError, Settings, secret_key_problem
from accord.web import create_app
from accord.web.cli import main

GOOD_KEY = "Q6aLY-ogkEGA5jEEao8EbvC8tMu6T546SY1SzQGzemI"  # made by secrets.token_urlsafe(32)

PLACEHOLDERS = [
    "dev", "development", "secret", "Secret-Key", "change-me", "CHANGE_ME", "changeme", "change me please",
    "please-change-me", "your-secret-key", "insecure-dev-key-do-not-use-in-production",
    "changeme-changeme-changeme-changeme", "secretsecretsecretsecretsecretsecret",
    "change-me-in-production-0123456789abcdef", "replace-me-with-a-real-key-of-32-chars!",
    "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",  # Flask's documentation
    "not-a-secret", "default", "test", "x",
]


def production(key: str | None, tmp_path, **more: str) -> Settings:
    env = {"ACCORD_ENV": "production", "ACCORD_INSTANCE_PATH": str(tmp_path), **more}
    if key is not None:
        env["ACCORD_SECRET_KEY"] = key
    return Settings.from_env(env)


def test_development_is_the_default(tmp_path):
    settings = Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)})
    assert settings.environment == "development" and not settings.production


def test_no_proxy_is_trusted_unless_told_and_a_bad_count_is_refused(tmp_path):
    assert Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)}).proxies == 0
    assert Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_PROXIES": " 2 "}).proxies == 2
    for value in ("yes", "-1", "1.5"):
        with pytest.raises(ConfigurationError, match="ACCORD_PROXIES"):
            Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_PROXIES": value})


@pytest.mark.parametrize("value", ["prod", "Production ", "PRODUCTION", "staging", "1"])
def test_an_unknown_environment_is_refused_not_taken_for_development(tmp_path, value):
    if value.strip().lower() == "production":
        assert Settings.from_env({"ACCORD_ENV": value}).production
        return
    with pytest.raises(ConfigurationError, match="ACCORD_ENV"):
        Settings.from_env({"ACCORD_ENV": value})


@pytest.mark.parametrize("key", [None, "", "   "])
def test_production_refuses_to_start_without_a_key(tmp_path, key):
    with pytest.raises(ConfigurationError, match="ACCORD_SECRET_KEY is not set") as refused:
        create_app(production(key, tmp_path))
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "secret_key").exists()  # nothing generated in production


@pytest.mark.parametrize("key", PLACEHOLDERS)
def test_production_refuses_a_known_placeholder(tmp_path, key):
    with pytest.raises(ConfigurationError) as refused:
        create_app(production(key, tmp_path))
    message = str(refused.value)
    assert "placeholder" in message or "too short" in message or "too easy to guess" in message
    assert len(key) < 8 or key not in message  # the key itself is never printed


@pytest.mark.parametrize(("key", "problem"), [
    ("kJ3v9-Qw_x7Zp2LmN8rT4yB6c", "too short (25 characters)"),
    ("ab" * 20, "too easy to guess"),
    ("0123456701234567012345670123456701", "too easy to guess"),
])
def test_production_refuses_a_short_or_patterned_key(tmp_path, key, problem):
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        production(key, tmp_path).check()


#: Long enough, made of many different characters, and guessable all the same.
GUESSABLE_KEYS = [
    "abcdefghijklmnopqrstuvwxyz012345",  # the alphabet and the digits, in order
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "qwertyuiopasdfghjklzxcvbnm1234567890",  # a keyboard walk
    "correcthorsebatterystaple" * 2,  # a repeated phrase of dictionary words
    "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",
    "aB3$" * 10,
    "df9pp1MZNnqm6s3_5Cz1JwlmtDUfgEkRyO9C",  # secrets.token_urlsafe(27): random, but too few characters
    # secrets.token_hex(16): 2^128 possible keys, but zxcvbn counts ten guesses a character
    "2f9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f",
]


@pytest.mark.parametrize("key", GUESSABLE_KEYS)
def test_production_refuses_a_guessable_key(tmp_path, key):
    with pytest.raises(ConfigurationError, match="too easy to guess") as refused:
        production(key, tmp_path).check()
    assert key not in str(refused.value)


def test_production_starts_with_a_real_key(tmp_path):
    import secrets

    for key in (GOOD_KEY, secrets.token_urlsafe(48), secrets.token_hex(32)):
        assert secret_key_problem(key) is None
        app = create_app(production(key, tmp_path, ACCORD_DATABASE_URL="sqlite://"))
        assert app.config["SECRET_KEY"] == key
    assert not (tmp_path / "secret_key").exists()


def test_every_key_the_readme_suggests_passes():
    """secrets.token_urlsafe(32) is the weakest suggestion: 100 of them all pass."""
    import secrets

    assert all(secret_key_problem(secrets.token_urlsafe(32)) is None for _ in range(100))


def test_development_makes_up_a_key_once_and_keeps_it(tmp_path):
    settings = Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)})
    first = create_app(settings).config["SECRET_KEY"]
    assert len(first) >= 48 and secret_key_problem(first) is None
    assert create_app(settings).config["SECRET_KEY"] == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    # A placeholder is the developer's business outside production.
    assert create_app(Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_SECRET_KEY": "dev"})).config["SECRET_KEY"] == "dev"


def test_accord_serve_refuses_with_one_line_and_exit_status_2(tmp_path, monkeypatch, capsys):
    database = tmp_path / "instance" / "accord.db"
    monkeypatch.setenv("ACCORD_ENV", "production")
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    for key in (None, "change-me"):
        if key is None:
            monkeypatch.delenv("ACCORD_SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("ACCORD_SECRET_KEY", key)
        capsys.readouterr()
        assert main(["serve", "--port", "1"]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("accord: ACCORD_SECRET_KEY "), captured.err
        assert "Traceback" not in captured.err and captured.out == ""
        assert not database.exists()  # refused before the database was created or migrated


def test_accord_serve_refuses_the_demo_in_production(tmp_path, monkeypatch, capsys):
    """The demo accounts' password is in the README."""
    monkeypatch.setenv("ACCORD_ENV", "production")
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("ACCORD_SECRET_KEY", GOOD_KEY)
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    assert main(["serve", "--demo", "--port", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "accord: --demo loads accounts whose password is published; it is refused in production."
    )
    assert not (tmp_path / "instance" / "accord.db").exists()


def test_an_unknown_environment_stops_every_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ACCORD_ENV", "prodution")
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path))
    assert main(["db", "upgrade"]) == 2
    assert capsys.readouterr().err.strip() == (
        "accord: ACCORD_ENV is 'prodution'; use development (the default) or production."
    )


def test_commands_that_sign_nothing_still_run_in_production(tmp_path, monkeypatch, capsys):
    """Migrating needs no secret key: an operator may upgrade before the key is in place."""
    monkeypatch.setenv("ACCORD_ENV", "production")
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'accord.db'}")
    monkeypatch.delenv("ACCORD_SECRET_KEY", raising=False)
    assert main(["db", "upgrade"]) == 0


def test_the_wsgi_application_refuses_to_load(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCORD_ENV", "production")
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ACCORD_SECRET_KEY", "secret")
    monkeypatch.delitem(sys.modules, "accord.web.wsgi", raising=False)
    with pytest.raises(ConfigurationError, match="placeholder"):
        importlib.import_module("accord.web.wsgi")
    monkeypatch.delitem(sys.modules, "accord.web.wsgi", raising=False)
