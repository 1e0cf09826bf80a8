"""What the audit event of each use case carries in its payload, built in one place: the
services call these builders, and so does the bulk generator (`config/scale`), which writes the
same events without the services. The payload is hashed into the chain: a key or its meaning
is never changed, only added to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def process_added(process_id: int, title: str, agency_codes: Iterable[str]) -> dict[str, Any]:
    return {"process": process_id, "title": title, "agencies": sorted(set(agency_codes))}


def recommendation_created(process_id: int, addressed_codes: Iterable[str], content_hash: str) -> dict[str, Any]:
    return {"process": process_id, "addressed_agencies": sorted(addressed_codes), "content_hash": content_hash}


def recommendation_edited(
    *, previous_revision: int, base_revision: int, merged: bool, content_hash: str
) -> dict[str, Any]:
    return {
        "previous_revision": previous_revision,
        "base_revision": base_revision,
        "merged": merged,
        "content_hash": content_hash,
    }


def edit_conflicted(*, base_revision: int, conflict_copy_id: int) -> dict[str, Any]:
    return {"base_revision": base_revision, "conflict_copy": conflict_copy_id}


def transitioned(
    content_hash: str, *, into: int | None = None,
    approvals: Iterable[tuple[str, int, int]] | None = None,
) -> dict[str, Any]:
    """A transition: the text it applies to; for a merge, the target; for an adoption, the
    standing approvals it rests on, as (agency code, approval id, revision)."""
    payload: dict[str, Any] = {"content_hash": content_hash}
    if into is not None:
        payload["into"] = into
    if approvals is not None:
        payload["approvals"] = [
            {"agency": agency, "approval": approval, "revision": revision}
            for agency, approval, revision in sorted(approvals)
        ]
    return payload


def decided(content_hash: str) -> dict[str, Any]:
    """An approval or objection: the exact text decided on."""
    return {"content_hash": content_hash}


def thread_started(thread_id: int, comment_id: int, quote: str | None) -> dict[str, Any]:
    return {"thread": thread_id, "comment": comment_id, "quote": quote}


def commented(thread_id: int, comment_id: int) -> dict[str, Any]:
    return {"thread": thread_id, "comment": comment_id}


def thread_moderated(thread_id: int) -> dict[str, Any]:
    """A thread resolved or reopened."""
    return {"thread": thread_id}


def conflict_copy_discarded(copy_id: int) -> dict[str, Any]:
    return {"conflict_copy": copy_id}


def agency_added(code: str, name: str, country: str, kind: str) -> dict[str, Any]:
    return {"code": code, "name": name, "country": country, "kind": kind}


def user_added(username: str, agency_code: str, roles: Iterable[str]) -> dict[str, Any]:
    return {"username": username, "agency": agency_code, "roles": list(roles)}


def account_switched(username: str) -> dict[str, Any]:
    """An account enabled or disabled."""
    return {"username": username}


def password_set(username: str, ended: int) -> dict[str, Any]:
    """A password changed or set, and how many sessions and API tokens it ended."""
    return {"username": username, "ended": ended}


def token_event(token_id: int) -> dict[str, Any]:
    """A session or API token started or ended."""
    return {"token": token_id}
