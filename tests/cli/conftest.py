from __future__ import annotations

from dataclasses import dataclass

import pytest

from accord.web.cli import main


@dataclass
class Result:
    status: int
    out: str
    err: str


@pytest.fixture
def accord(fresh_database, monkeypatch, capsys, tmp_path):
    """Run `accord …` in-process against this test's own database."""
    monkeypatch.setenv("ACCORD_DATABASE_URL", fresh_database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ACCORD_INSTANCE_PATH", str(tmp_path / "instance"))

    def run(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            import io
            import sys

            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        status = main(list(args))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    run.database = fresh_database
    return run
