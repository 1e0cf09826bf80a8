"""`accord agencies|users|processes add`, `accord db upgrade`, `accord demo`, `accord export`:
what works, and bad usage that exits non-zero with one line on stderr and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accord.workflow.models import Agency, AuditEvent, Process, Recommendation, User
from accord.workflow.states import State


def counts(database) -> dict[str, int]:
    with database.read() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Agency, User, Process, AuditEvent)
        }


def refused(accord, *args, stdin=None, status=2, mentions=""):
    before = counts(accord.database)
    result = accord(*args, stdin=stdin)
    assert result.status == status, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accord: "), result.err
    assert "Traceback" not in result.err
    assert mentions.lower() in result.err.lower()
    assert counts(accord.database) == before
    return result


@pytest.fixture
def with_agencies(accord):
    assert accord("agencies", "add", "KZ-BS", "--name", "Border Service", "--country", "Kazakhstan",
                  "--kind", "national").status == 0
    assert accord("agencies", "add", "LV-SBG", "--name", "State Border Guard", "--country", "Latvia",
                  "--kind", "eu").status == 0
    return accord


def test_add_agency_user_and_process(with_agencies):
    accord = with_agencies
    result = accord("users", "add", "aigerim", "--agency", "KZ-BS", "--role", "national_expert",
                    "--role", "approver", "--password-stdin", stdin="a perfectly long passphrase\n")
    assert result.status == 0, result.err
    result = accord("processes", "add", "Workshop in Almaty", "--agency", "KZ-BS", "--agency", "LV-SBG")
    assert result.status == 0
    process_id = int(result.out.strip())
    with accord.database.read() as session:
        user = session.scalar(select(User).where(User.username == "aigerim"))
        assert (user.agency.code, sorted(user.roles)) == ("KZ-BS", ["approver", "national_expert"])
        assert user.password_hash.startswith("$argon2id$")
        assert [a.code for a in session.get(Process, process_id).agencies] == ["KZ-BS", "LV-SBG"]
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["agency.add", "agency.add", "user.add", "process.add"]


@pytest.mark.parametrize(("args", "stdin", "mentions"), [
    (("users", "add", "newuser1", "--agency", "XX-NOPE", "--role", "approver", "--password-stdin"),
     "a perfectly long passphrase\n", "unknown agency"),
    (("users", "add", "newuser2", "--agency", "LV-SBG", "--role", "approver", "--password-stdin"),
     "a perfectly long passphrase\n", "belongs to national agencies"),
    (("users", "add", "newuser3", "--agency", "KZ-BS", "--role", "eu_expert", "--password-stdin"),
     "a perfectly long passphrase\n", "belongs to eu agencies"),
    (("users", "add", "newuser4", "--agency", "KZ-BS", "--role", "approver", "--password-stdin"),
     "short\n", "12 characters"),
    (("users", "add", "newuser5", "--agency", "KZ-BS", "--role", "approver", "--password-stdin"),
     "password123456\n", "common"),
    (("users", "add", "newuser6", "--agency", "KZ-BS", "--role", "overlord", "--password-stdin"),
     "a perfectly long passphrase\n", "overlord"),
    (("users", "add", "Bad Name!", "--agency", "KZ-BS", "--role", "approver", "--password-stdin"),
     "a perfectly long passphrase\n", "username"),
    (("agencies", "add", "KZ-BS", "--name", "Again", "--country", "Kazakhstan", "--kind", "national"),
     None, "exists already"),
    (("agencies", "add", "kz bs!", "--name", "Bad", "--country", "Kazakhstan", "--kind", "national"),
     None, "agency code"),
    (("agencies", "add", "UZ-CC", "--name", "Customs", "--country", "Uzbekistan", "--kind", "customs"),
     None, "customs"),
    (("processes", "add", "Workshop", "--agency", "XX-NOPE"), None, "unknown agency"),
    (("processes", "add", "Workshop"), None, "--agency"),
    (("frobnicate",), None, "frobnicate"),
])
def test_bad_usage_is_one_line_and_changes_nothing(with_agencies, args, stdin, mentions):
    refused(with_agencies, *args, stdin=stdin, mentions=mentions)


def test_a_duplicate_username_or_process_is_refused(with_agencies):
    accord = with_agencies
    assert accord("users", "add", "serik", "--agency", "KZ-BS", "--role", "approver",
                  "--password-stdin", stdin="a perfectly long passphrase\n").status == 0
    refused(accord, "users", "add", "serik", "--agency", "KZ-BS", "--role", "approver",
            "--password-stdin", stdin="another long passphrase\n", mentions="taken")
    assert accord("processes", "add", "Workshop", "--agency", "KZ-BS").status == 0
    refused(accord, "processes", "add", "workshop", "--agency", "KZ-BS", mentions="exists already")


def test_disable_and_enable_a_user(with_agencies):
    accord = with_agencies
    accord("users", "add", "serik", "--agency", "KZ-BS", "--role", "approver", "--password-stdin",
           stdin="a perfectly long passphrase\n")
    assert accord("users", "disable", "serik").status == 0
    refused(accord, "users", "disable", "serik", mentions="already disabled")
    assert accord("users", "enable", "serik").status == 0


def test_db_upgrade_on_a_blank_database(accord, database_server, monkeypatch):
    monkeypatch.setenv("ACCORD_DATABASE_URL", database_server.blank_database())
    result = accord("db", "upgrade")
    assert result.status == 0 and "schema" in result.err
    assert accord("agencies", "add", "KZ-BS", "--name", "B", "--country", "K", "--kind", "national").status == 0


def test_commands_refuse_a_database_that_is_not_migrated(accord, database_server, monkeypatch):
    monkeypatch.setenv("ACCORD_DATABASE_URL", database_server.blank_database())
    result = accord("audit", "verify")
    assert result.status == 1 and "accord db upgrade" in result.err


def test_demo_loads_once(accord):
    first = accord("demo")
    assert first.status == 0 and "Demo data loaded" in first.err
    before = counts(accord.database)
    with accord.database.read() as session:
        states = set(session.scalars(select(Recommendation.state)))
    assert states == set(State)
    second = accord("demo")
    assert second.status == 0 and "already loaded" in second.err
    assert counts(accord.database) == before
    assert accord("audit", "verify").status == 0


def test_demo_has_a_stale_approval_and_a_merge(accord):
    accord("demo")
    with accord.database.read() as session:
        recs = session.scalars(select(Recommendation)).all()
        stale = [a for r in recs for a in r.approvals if a.is_stale]
        assert len(stale) == 1 and stale[0].agency.code == "KZ-SRC"
        merged = [r for r in recs if r.state is State.merged]
        assert len(merged) == 1 and merged[0].merged_into.merged_from == merged


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_export_a_process(accord, tmp_path, fmt):
    accord("demo")
    output = tmp_path / f"process.{fmt}"
    result = accord("export", "1", "--format", fmt, "--output", str(output),
                    "--state", "adopted", "--state", "expert_consolidation")
    assert result.status == 0, result.err
    assert "Wrote 3 recommendations" in result.err
    if fmt == "docx":
        import docx

        text = "\n".join(p.text for p in docx.Document(str(output)).paragraphs)
    else:
        text = output.read_text()
    assert "Joint strategic planning cycle" in text
    assert "Common risk indicators" not in text  # a private draft never leaves its agency


def test_export_of_an_unknown_process(accord, tmp_path):
    refused(accord, "export", "42", "--format", "md", "--output", str(tmp_path / "x.md"), mentions="no process")
