"""Slowing down password guessing without letting anyone lock another person out.

OWASP's advice against hard lockouts: a count of failures that refuses every sign-in to a
name hands a stranger the power to lock its owner out, and one that refuses every sign-in
from an address locks out a whole workshop behind one venue address (or everyone behind a
proxy). So nothing is ever refused outright; guesses are slowed down, on two counts:

- one name from one address: the first few failures cost nothing (typing mistakes), then each
  further one makes the next attempt wait twice as long, from one second up to five minutes;
- one address, every name together: only beyond a room's worth of failures, and briefly.

The right password from an address that has not been failing is never delayed, whatever
happens elsewhere. While a delay runs, every attempt is answered 429 with Retry-After and
the password is not even checked (so the answer cannot tell a right one), nor is the attempt
counted. A success clears its name's failures from that address. Failures are remembered for
an hour and then deleted, a batch at a time, by the sign-ins that follow.

Addresses are counted as given by the web layer (the proxy hops it trusts are its business);
an IPv6 address counts as its /64 network, which one machine can fill with addresses at will.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import RateLimited
from ..models import SignInFailure, utcnow
from ..validation import is_clean
from ._common import delete_batch

#: How long a failure counts. Longer than the longest delay many times over, so a guesser held
#: to the longest delay keeps enough failures in view to stay there.
FAILURE_MEMORY = timedelta(hours=1)
#: Rows of expired failures deleted at most per sign-in: more than one sign-in adds, so the
#: table cannot grow, and few enough that no sign-in waits for a large clean-up.
PRUNE_BATCH = 100
#: An IPv6 client is counted by its network of this size (one customer's usual allocation).
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Slowdown:
    """Growing delays: the first `free` failures cost nothing; each one after that makes the
    next attempt wait twice as long as the one before, from one second up to `longest`."""

    free: int
    longest: timedelta

    def delay(self, failures: int) -> timedelta:
        if failures <= self.free:
            return timedelta(0)
        doublings = failures - self.free - 1
        if doublings >= 32:  # far beyond any cap; 2**doublings seconds would overflow timedelta
            return self.longest
        return min(self.longest, timedelta(seconds=2**doublings))


#: One name from one address: someone who mistypes is never slowed; a guesser soon waits
#: minutes for each guess (about a dozen an hour).
PER_NAME_AND_ADDRESS = Slowdown(free=3, longest=timedelta(minutes=5))
#: One address, every name: a workshop shares one venue address, so only more failures than a
#: room full of people makes start a delay, and it stays short.
PER_ADDRESS = Slowdown(free=100, longest=timedelta(seconds=30))


def address_key(remote_addr: str) -> str:
    """The address failures are counted under: an IPv4 address as it is, an IPv6 one as its
    /64 network (an IPv4-mapped one as the IPv4 address); anything else as given, made short."""
    try:
        address = ipaddress.ip_address(remote_addr.strip())
    except ValueError:
        return remote_addr[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def name_key(username: str) -> str:
    """The name failures are counted under: as typed, in lower case without surrounding space,
    made storable (a NUL or a lone surrogate is written escaped, so such guesses count too)."""
    name = str(username).strip().lower()
    name = name if is_clean(name) else name.encode("unicode_escape").decode("ascii")
    return name[:64]


def check_sign_in_allowed(session: Session, username: str, remote_addr: str) -> None:
    """Raise RateLimited while a delay runs for this name from this address, or for this address.

    One statement, on the address's failures of the last hour (an index range): how many, the
    latest, and the same for this name among them.
    """
    now = utcnow()
    name, address = name_key(username), address_key(remote_addr)
    of_name = SignInFailure.username == name
    row = session.execute(
        select(
            func.count(),
            func.max(SignInFailure.occurred_at),
            func.count().filter(of_name),
            func.max(SignInFailure.occurred_at).filter(of_name),
        ).where(SignInFailure.remote_addr == address, SignInFailure.occurred_at > now - FAILURE_MEMORY)
    ).one()
    address_failures, address_latest, name_failures, name_latest = row
    wait = max(
        _remaining(PER_ADDRESS, address_failures, address_latest, now),
        _remaining(PER_NAME_AND_ADDRESS, name_failures, name_latest, now),
    )
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise RateLimited(f"Too many failed sign-ins; try again in {_duration(seconds)}.", retry_after=seconds)


def record_failure(session: Session, username: str, remote_addr: str) -> None:
    """Count a failed sign-in (or a wrong current password); the caller commits it."""
    session.add(SignInFailure(username=name_key(username), remote_addr=address_key(remote_addr), occurred_at=utcnow()))
    session.flush()


def clear_failures(session: Session, username: str, remote_addr: str) -> None:
    """A success: this name's failures from this address stop counting. Those from other
    addresses stay (they may be someone else's guesses)."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.username == name_key(username), SignInFailure.remote_addr == address_key(remote_addr)
        )
    )


def prune_failures(session: Session) -> int:
    """Delete up to PRUNE_BATCH failures older than FAILURE_MEMORY; how many went. Rows another
    transaction is deleting meanwhile are skipped (PostgreSQL), not waited for."""
    expired = SignInFailure.occurred_at <= utcnow() - FAILURE_MEMORY
    return delete_batch(session, SignInFailure, SignInFailure.id, expired, PRUNE_BATCH)


def _remaining(slowdown: Slowdown, failures: int, latest: datetime | str | None, now: datetime) -> timedelta:
    if not failures or latest is None:
        return timedelta(0)
    return _aware(latest) + slowdown.delay(failures) - now


def _aware(moment: datetime | str) -> datetime:
    # max() skips the column's type on some drivers: SQLite hands back a naive string.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
