"""The `accord` command line.

Exit status: 0 on success, 1 on a failed check (a broken audit chain, an unreachable database),
2 on bad usage; always with one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypedDict

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from accord.config.settings import ConfigurationError, Settings
from accord.migrations import schema
from accord.workflow import audit, services
from accord.workflow.actors import SYSTEM
from accord.workflow.db import Database, refresh_statistics
from accord.workflow.errors import DomainError
from accord.workflow.models import AgencyKind, Role
from accord.workflow.services.auth import set_password

EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


class CommandFailed(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    raise CommandFailed(message, status)


def _settings() -> Settings:
    return click.get_current_context().find_object(Settings) or Settings.from_env()


@contextmanager
def _database(*, migrate: bool = False) -> Iterator[Database]:
    """The configured database, migrated if asked, else required to be up to date."""
    settings = _settings()
    if settings.database_url.startswith("sqlite"):
        settings.ensure_instance()
    database = Database(settings.database_url, strict_audit=not settings.production)
    try:
        if migrate:
            schema.upgrade(database.engine)
        elif schema.current_revision(database.engine) != schema.head_revision():
            fail("The database schema is not up to date; run `accord db upgrade` first.", EXIT_CHECK_FAILED)
        yield database
    finally:
        database.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Accord: collaborative drafting of recommendations, with an audit trail."""
    ctx.obj = Settings.from_env()


# --- serving -------------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Load the demo data when the database is empty.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, demo: bool, threads: int) -> None:
    """Create and migrate the database if needed, then serve pages and API (waitress)."""
    import waitress

    from accord.web import create_app

    settings = _settings()
    settings.check()  # refuse a production run without a real secret key, before anything
    if demo and settings.production:
        fail("--demo loads accounts whose password is published; it is refused in production.")
    with _database(migrate=True) as database:
        if demo:
            _load_demo(database)
        app = create_app(settings, database=database)
        click.echo(f"Accord is serving on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
        waitress.serve(app, host=host, port=port, threads=threads, ident="Accord", **waitress_proxy_options(settings))


class WaitressProxyOptions(TypedDict, total=False):
    trusted_proxy: str
    trusted_proxy_count: int
    trusted_proxy_headers: str


def waitress_proxy_options(settings: Settings) -> WaitressProxyOptions:
    """Waitress told of the same trusted proxies (ACCORD_PROXIES) as the application, whose
    ProxyFix reads the same headers to the same result: waitress then keeps only the hops it
    trusts in X-Forwarded-For and drops the other forwarding headers a client may have sent."""
    if not settings.proxies:
        return {}
    return {
        "trusted_proxy": "*",  # any peer: ACCORD_PROXIES says only proxies reach the server
        "trusted_proxy_count": settings.proxies,
        "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto",
    }


# --- database and demo ---------------------------------------------------------------------


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema."""
    with _database(migrate=True) as database:
        click.echo(f"Database at schema {schema.current_revision(database.engine)}.", err=True)


@cli.command()
@click.option("--scale", type=click.IntRange(1, 100_000), default=None, metavar="N",
              help="Then add a generated data set of N recommendations (see config/scale/).")
@click.option("--seed", type=int, default=None, help="The generated data set's seed (default 2019).")
def demo(scale: int | None, seed: int | None) -> None:
    """Load the demo data set (once: a second run changes nothing).

    With --scale N, load the demo first if the database is empty, then add N recommendations
    with their whole history: once per database, and only into the demo.
    """
    if scale is None and seed is not None:
        fail("--seed goes with --scale.")
    with _database(migrate=True) as database:
        if scale is None:
            _load_demo(database)
        else:
            _load_scale(database, scale, 2019 if seed is None else seed)


def _load_scale(database: Database, n: int, seed: int) -> None:
    from accord.config import scale as scale_data

    with database.read() as session:
        empty = scale_data.is_empty(session)
        refusal = None if empty else scale_data.refusal(session)
    if refusal:
        fail(refusal)
    if empty:
        _load_demo(database)
    started = time.perf_counter()
    try:
        with database.write() as session:
            load = scale_data.prepare(session, n, seed)  # checks the rule again, under the lock
            with click.progressbar(length=load.total, label=f"Generating {n:,} recommendations",
                                   file=sys.stderr, show_eta=True) as bar:
                outcome = load.run(bar.update)
    except scale_data.Refused as refused:
        fail(str(refused))
    refresh_statistics(database.engine)  # hundreds of thousands of new rows
    elapsed = time.perf_counter() - started
    click.echo(f"{outcome.message} ({elapsed:.1f} s)", err=True)


def _load_demo(database: Database) -> None:
    from accord.config import demo as demo_data

    started = time.perf_counter()
    with database.write() as session:
        outcome = demo_data.load(session)
    elapsed = time.perf_counter() - started
    click.echo(f"{outcome.message} ({elapsed:.1f} s)", err=True)


# --- administration ------------------------------------------------------------------------


def _run(action: Callable[..., Any], **kwargs: Any) -> Any:
    """Run one service in a write transaction as the system operator."""
    with _database() as database, database.write() as session:
        return action(session, SYSTEM, **kwargs)


@cli.group()
def agencies() -> None:
    """Agencies taking part in Accord."""


@agencies.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--country", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in AgencyKind]))
def agencies_add(code: str, name: str, country: str, kind: str) -> None:
    """Add an agency, such as KZ-BS."""
    agency = _run(services.add_agency, code=code, name=name, country=country, kind=kind)
    click.echo(f"Added agency {agency.code}.", err=True)


@cli.group()
def users() -> None:
    """User accounts."""


@users.command("add")
@click.argument("username")
@click.option("--agency", "agency_code", required=True, help="The code of the user's agency.")
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(
    username: str, agency_code: str, roles: tuple[str, ...], display_name: str | None, password_stdin: bool
) -> None:
    """Add a user to an agency with one or more roles."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    user = _run(
        services.add_user,
        username=username,
        agency_code=agency_code,
        roles=roles,
        password=password,
        display_name=display_name,
    )
    click.echo(f"Added user {user.username} ({user.agency.code}: {', '.join(sorted(user.roles))}).", err=True)


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a user's password; every session and API token of theirs ends."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    ended = _run(set_password, username=username, new_password=password)
    click.echo(f"Set the password of {username.strip().lower()}; sessions and API tokens ended: {ended}.", err=True)


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account: it can no longer sign in or act; its history stays."""
    _run(services.set_user_active, username=username, active=False)
    click.echo(f"Disabled {username}.", err=True)


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable a disabled account again."""
    _run(services.set_user_active, username=username, active=True)
    click.echo(f"Enabled {username}.", err=True)


@cli.group()
def processes() -> None:
    """Drafting processes (workshops)."""


@processes.command("add")
@click.argument("title")
@click.option("--agency", "agency_codes", required=True, multiple=True, help="A participating agency (repeat).")
def processes_add(title: str, agency_codes: tuple[str, ...]) -> None:
    """Add a process with its agencies; prints the new id."""
    process = _run(services.add_process, title=title, agency_codes=agency_codes)
    click.echo(process.id)


# --- audit ---------------------------------------------------------------------------------


@cli.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the chain; exit 1 naming the first event that does not match."""
    started = time.perf_counter()
    with _database() as database, database.read() as session:
        result = audit.verify_chain(session)
    elapsed = time.perf_counter() - started
    if not result.ok:
        fail(
            f"Audit chain broken at event {result.first_bad}: {result.problem} "
            f"({result.events} events before it verify).",
            EXIT_CHECK_FAILED,
        )
    rate = f", {result.events / elapsed:,.0f} events/s" if elapsed > 0 and result.events else ""
    click.echo(f"Audit chain intact: {result.events} events, head {result.head} ({elapsed:.2f} s{rate}).")


@audit_group.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(audit.EXPORT_FORMATS))
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="File to write (default: standard output).")
def audit_export(fmt: str, output: Path | None) -> None:
    """Export every event, in order, as JSON lines or CSV."""
    with _database() as database, database.read() as session, _output(output) as out:
        count = audit.export_events(audit.iter_events(session), out, fmt)
    click.echo(f"Exported {count} events.", err=True)


# --- documents -----------------------------------------------------------------------------


@cli.command("export")
@click.argument("process_id", type=int)
@click.option("--format", "fmt", required=True, type=click.Choice(["md", "html", "docx"]))
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--state", "states", multiple=True, default=["adopted"], show_default=True,
              help="Include recommendations in this state (repeat).")
def export_process(process_id: int, fmt: str, output: Path, states: tuple[str, ...]) -> None:
    """Write a process's recommendations as a document."""
    from accord.workflow import documents

    with _database() as database, database.read() as session:
        document = documents.process_document(session, process_id, states=states)
        count = documents.write(document, fmt, output)
    click.echo(f"Wrote {count} recommendations to {output}.", err=True)


@contextmanager
def _output(path: Path | None) -> Iterator[Any]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


# --- entry point ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; errors become one line on stderr and an exit status."""
    try:
        cli.main(args=argv, prog_name="accord", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # a bare group: show its help
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        return EXIT_USAGE
    except click.UsageError as exc:
        return _error(exc.format_message(), EXIT_USAGE)
    except click.Abort:
        return _error("Aborted.", EXIT_USAGE)
    except click.ClickException as exc:
        return _error(exc.format_message(), exc.exit_code)
    except CommandFailed as exc:
        return _error(str(exc), exc.status)
    except ConfigurationError as exc:
        return _error(str(exc), EXIT_USAGE)
    except DomainError as exc:
        return _error(exc.message, EXIT_USAGE)
    except OperationalError as exc:
        return _error(f"The database cannot be used: {_first_line(exc.orig)}", EXIT_CHECK_FAILED)
    except SQLAlchemyError as exc:
        return _error(f"Database error: {_first_line(exc)}", EXIT_CHECK_FAILED)
    except KeyboardInterrupt:
        return 130
    return 0


def _first_line(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _error(message: str, status: int) -> int:
    click.echo(f"accord: {message}", err=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
