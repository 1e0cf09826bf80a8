"""The editor (with its live preview and the conflict page) and the history and diff pages,
through the Flask client: who may open them, what saving does, what a clash keeps, what a
comparison shows, and that looking never changes anything."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.models import ConflictCopy, Revision
from accord.workflow.states import State

from ..factories import BODY, PASSWORD
from ..helpers import snapshot

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _text(response) -> str:
    return response.get_data(as_text=True)


def _field(page: str, name: str) -> str:
    """The value of a hidden or text input on a page."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


def _textarea(page: str) -> str:
    found = re.search(r'<textarea[^>]*name="body"[^>]*>\n?(.*?)</textarea>', page, re.DOTALL)
    assert found, "no text area"
    return html.unescape(found.group(1))


def _section(page: str, element_id: str) -> str:
    found = re.search(rf'<div class="[^"]*\b{element_id}\b[^"]*">(.*?)</div>', page, re.DOTALL)
    assert found, f"no {element_id}"
    return found.group(1)


def _token(pages) -> str:
    return pages.csrf_token("/")


def _save(pages, rec_id: int, *, body: str, base: int, title: str = "Joint working group on inter-agency cooperation", summary: str = "", **extra: str):
    data = {"title": title, "body": body, "summary": summary, "base_revision": str(base), **extra}
    return pages.post(f"/recommendations/{rec_id}/edit", data)


def _revisions(session, rec_id: int) -> list[Revision]:
    session.expire_all()
    return list(session.scalars(select(Revision).where(Revision.recommendation_id == rec_id).order_by(Revision.number)))


# --- the editor ----------------------------------------------------------------------------


def test_the_editor_is_prefilled_with_the_current_text_and_its_revision(pages, world, session):
    rec = world.bring_to(session, State.draft)
    session.commit()
    pages.sign_in("kz_expert")
    response = pages.get(f"/recommendations/{rec.id}/edit")
    assert response.status_code == 200
    page = _text(response)
    assert _textarea(page) == BODY
    assert _field(page, "title") == rec.title
    assert _field(page, "base_revision") == "1"
    assert _field(page, "csrf_token")
    for field_id in ("edit-title", "edit-body", "edit-summary"):  # every field has its label
        assert f'<label for="{field_id}">' in page
    assert "<p>The group meets every quarter" in page  # the preview, rendered by the server
    assert '<script src="/static/editor.js"' in page


@pytest.mark.parametrize(
    ("state", "username", "status"),
    [
        (State.draft, "kg_expert", 404),  # another agency's draft does not exist for them
        (State.draft, "kz_approver", 403),  # seen, but approvers do not edit
        (State.national_review, "kz_expert", 409),  # the right person, the wrong state
        (State.adopted, "lv_expert", 409),
        (State.expert_consolidation, "kz_expert", 409),
        (State.expert_consolidation, "uz_expert", 403),
    ],
)
def test_the_editor_is_refused_as_the_policy_says(pages, world, session, state, username, status):
    rec = world.bring_to(session, state)
    session.commit()
    pages.sign_in(username)
    response = pages.get(f"/recommendations/{rec.id}/edit")
    assert response.status_code == status
    assert "<textarea" not in _text(response)
    if status != 404:  # a page one may not see just is not there; nothing was attempted
        assert "Nothing was changed." in _text(response)


def test_an_eu_expert_edits_in_consolidation(pages, world, session):
    rec = world.bring_to(session, State.expert_consolidation)
    session.commit()
    pages.sign_in("lv_expert")
    assert pages.get(f"/recommendations/{rec.id}/edit").status_code == 200


def test_the_editor_needs_a_session(pages, world, session):
    rec = world.bring_to(session, State.draft)
    session.commit()
    response = pages.get(f"/recommendations/{rec.id}/edit")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_saving_makes_a_revision_and_returns_to_the_recommendation(pages, world, session):
    rec = world.bring_to(session, State.draft)
    session.commit()
    pages.sign_in("kz_expert")
    response = _save(pages, rec.id, body=BODY + "\n\nA fourth paragraph.", base=1, summary="Added a paragraph")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/recommendations/{rec.id}")
    revisions = _revisions(session, rec.id)
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[-1].body.endswith("A fourth paragraph.") and revisions[-1].summary == "Added a paragraph"
    assert revisions[-1].author.username == "kz_expert"
    assert "Saved as revision 2." in pages.text(f"/recommendations/{rec.id}")


def test_saving_the_same_text_makes_no_revision(pages, world, session):
    rec = world.bring_to(session, State.draft)
    session.commit()
    pages.sign_in("kz_expert")
    response = _save(pages, rec.id, body=BODY, base=1)
    assert response.status_code == 303
    assert len(_revisions(session, rec.id)) == 1
    assert "Nothing to save" in pages.text(f"/recommendations/{rec.id}")


def test_a_refused_save_changes_nothing(pages, world, session, make_client):
    rec = world.bring_to(session, State.national_review)
    session.commit()
    pages.sign_in("kz_expert")
    approver = make_client()
    approver.sign_in("kg_approver")
    before = snapshot(session)
    response = _save(pages, rec.id, body="Rewritten.", base=1)
    assert response.status_code == 409
    assert "Nothing was changed." in _text(response)
    assert _save(approver, rec.id, body="Rewritten.", base=1).status_code == 403
    assert snapshot(session) == before


def test_an_invalid_save_keeps_the_typed_text(pages, world, session):
    rec = world.bring_to(session, State.draft)
    session.commit()
    pages.sign_in("kz_expert")
    before = snapshot(session)
    response = _save(pages, rec.id, title="   ", body="My careful new wording.", base=1)
    assert response.status_code == 422
    page = _text(response)
    assert "The title must not be empty." in page and "Nothing was saved" in page
    assert _textarea(page) == "My careful new wording."
    assert _save(pages, rec.id, body=BODY + " x", base=99).status_code == 422
    assert _save(pages, rec.id, body=BODY + " x", base="one").status_code == 422  # type: ignore[arg-type]
    assert snapshot(session) == before


def test_a_save_without_the_csrf_token_is_refused(pages, world, session):
    rec = world.bring_to(session, State.draft)
    session.commit()
    pages.sign_in("kz_expert")
    before = snapshot(session)
    response = pages.post(
        f"/recommendations/{rec.id}/edit",
        {"title": rec.title, "body": "Forged.", "base_revision": "1"}, csrf=False,
    )
    assert response.status_code == 400
    assert snapshot(session) == before


# --- the preview -----------------------------------------------------------------------------


def _preview(pages, body: str, *, token: str | None):
    headers = {"X-CSRFToken": token} if token else {}
    return pages.client.post("/preview", data={"body": body}, headers=headers)


def test_the_preview_renders_markdown_through_the_sanitizer(pages, world):
    pages.sign_in("kz_expert")
    markdown = (
        "Some **bold** words.\n\n"
        "<script>alert('x')</script>\n\n"
        "[click me](javascript:alert(1)) and [spaced](java\tscript:alert(2))\n\n"
        '<img src=x onerror="alert(3)">'
    )
    response = _preview(pages, markdown, token=_token(pages))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    answer = _text(response)
    assert "<strong>bold</strong>" in answer
    assert "<script" not in answer.lower()
    assert "javascript:" not in answer.lower() and "java\tscript:" not in answer.lower()
    assert "<img" not in answer.lower()
    assert "&lt;script&gt;" in answer  # shown as typed, never run


def test_the_preview_needs_the_csrf_token(pages, world):
    pages.sign_in("kz_expert")
    assert _preview(pages, "Hello", token=None).status_code == 400
    assert _preview(pages, "Hello", token="not-a-token").status_code == 400


def test_the_preview_needs_a_session(pages, world):
    token = pages.csrf_token("/sign-in")
    response = _preview(pages, "Hello", token=token)
    assert response.status_code == 401
    assert "<p>Hello</p>" not in _text(response)


def test_the_preview_refuses_text_over_the_limit(pages, world):
    pages.sign_in("kz_expert")
    response = _preview(pages, "word " * 50_000, token=_token(pages))  # 250,000 characters
    assert response.status_code == 422
    assert "too long" in _text(response)


# --- conflicts -----------------------------------------------------------------------------


def _clash(pages, world, session):
    """kz_expert opens the editor on revision 1; meanwhile revision 2 rewrites the same
    paragraph; kz_expert saves their own rewrite of it."""
    rec = world.bring_to(session, State.draft)
    session.commit()
    pages.sign_in("kz_expert")
    base = int(_field(pages.text(f"/recommendations/{rec.id}/edit"), "base_revision"))
    theirs = BODY.replace("every quarter", "every month")
    services.edit_recommendation(
        session, world["kz_expert"], rec.id, title=rec.title, body=theirs, base_revision=1,
        summary="Monthly meetings",
    )
    session.commit()
    mine = BODY.replace("every quarter", "twice a year")
    return rec, base, theirs, mine, _save(pages, rec.id, body=mine, base=base, summary="Fewer meetings")


def test_a_clashing_save_shows_both_texts_and_keeps_mine(pages, world, session):
    rec, base, theirs, mine, response = _clash(pages, world, session)
    assert base == 1
    assert response.status_code == 409
    page = _text(response)
    copy = session.scalars(select(ConflictCopy).where(ConflictCopy.recommendation_id == rec.id)).one()
    assert copy.body == mine and copy.author_id == world["kz_expert"].id
    assert f"conflict copy {copy.id}" in page
    assert "every month" in page and "twice a year" in page  # both versions
    diff = _section(page, "diff-text")
    deleted = "".join(re.findall(r"<del>(.*?)</del>", diff))
    inserted = "".join(re.findall(r"<ins>(.*?)</ins>", diff))
    assert "month" in deleted and "twice" in inserted and "year" in inserted
    # The editor holds my text, based on the current revision now, and names the copy.
    assert _textarea(page) == mine
    assert _field(page, "base_revision") == "2"
    assert _field(page, "copy") == str(copy.id)
    assert _field(page, "summary") == "Fewer meetings"
    # Nothing of mine reached the recommendation.
    assert [r.body for r in _revisions(session, rec.id)][-1] == theirs


def test_a_kept_copy_reopens_in_the_editor_and_saving_it_settles_it(pages, world, session):
    rec, _, theirs, mine, _ = _clash(pages, world, session)
    copy = session.scalars(select(ConflictCopy).where(ConflictCopy.recommendation_id == rec.id)).one()
    assert f"/recommendations/{rec.id}/edit?copy={copy.id}" in pages.text(f"/recommendations/{rec.id}")
    response = pages.get(f"/recommendations/{rec.id}/edit?copy={copy.id}")
    assert response.status_code == 200
    page = _text(response)
    assert _textarea(page) == mine
    assert _field(page, "base_revision") == "2"
    assert "every month" in page  # the current text, to merge with by hand
    merged = BODY.replace("every quarter", "every month, or twice a year at least")
    saved = _save(pages, rec.id, body=merged, base=2, copy=str(copy.id))
    assert saved.status_code == 303
    assert _revisions(session, rec.id)[-1].body == merged
    session.refresh(copy)
    assert copy.discarded_at is not None
    assert f"edit?copy={copy.id}" not in pages.text(f"/recommendations/{rec.id}")


def test_a_conflict_copy_can_be_discarded(pages, world, session):
    rec, *_ = _clash(pages, world, session)
    copy = session.scalars(select(ConflictCopy).where(ConflictCopy.recommendation_id == rec.id)).one()
    response = pages.post(f"/conflict-copies/{copy.id}/discard")
    assert response.status_code == 303
    session.refresh(copy)
    assert copy.discarded_at is not None
    assert pages.post(f"/conflict-copies/{copy.id}/discard").status_code == 409


def test_a_conflict_copy_reopens_for_its_author_only(pages, world, session, make_client):
    services.add_user(
        session, SYSTEM, username="lv_expert2", agency_code="LV-SBG", roles=["eu_expert"], password=PASSWORD
    )
    rec = world.bring_to(session, State.expert_consolidation)
    services.edit_recommendation(
        session, world["lv_expert"], rec.id, title=rec.title, body=BODY.replace("quarter", "month"), base_revision=1
    )
    kept = services.edit_recommendation(
        session, world["lv_expert"], rec.id, title=rec.title, body=BODY.replace("quarter", "week"), base_revision=1
    ).conflict
    assert kept is not None
    session.commit()
    pages.sign_in("lv_expert")
    assert pages.get(f"/recommendations/{rec.id}/edit?copy={kept.id}").status_code == 200
    other = make_client()
    other.sign_in("lv_expert2")
    assert other.get(f"/recommendations/{rec.id}/edit").status_code == 200
    assert other.get(f"/recommendations/{rec.id}/edit?copy={kept.id}").status_code == 404
    assert other.get(f"/recommendations/{rec.id}/edit?copy=nonsense").status_code == 422  # no copy's id
    assert other.post(f"/conflict-copies/{kept.id}/discard").status_code == 404


# --- history and diffs ----------------------------------------------------------------------


def _edited(world, session, state: State = State.draft, **kwargs):
    rec = world.bring_to(session, state, **kwargs)
    editor = "kz_expert" if state is State.draft else "lv_expert"
    services.edit_recommendation(
        session, world[editor], rec.id, title=rec.title,
        body=BODY.replace("every quarter", "every month").replace("shared risk", "joint risk"),
        base_revision=1, summary="Meet monthly",
    )
    session.commit()
    return rec


def test_the_history_lists_every_revision(pages, world, session):
    rec = _edited(world, session)
    pages.sign_in("kz_expert")
    response = pages.get(f"/recommendations/{rec.id}/history")
    assert response.status_code == 200
    page = _text(response)
    rows = re.findall(r'<tr id="revision-(\d+)">(.*?)</tr>', page, re.DOTALL)
    assert [number for number, _ in rows] == ["2", "1"]  # newest first
    newest, first = rows[0][1], rows[1][1]
    assert "Meet monthly" in newest and "kz_expert" in newest and "Draft" in newest
    assert "First draft" in first
    assert f'/recommendations/{rec.id}/diff?from=1&amp;to=2' in newest
    # The comparison form: two labelled selects, sent by GET to the diff page.
    assert f'<form method="get" action="/recommendations/{rec.id}/diff"' in page
    assert '<label for="compare-from">' in page and '<label for="compare-to">' in page
    assert "changes since your agency approved" not in page


def test_the_history_is_refused_to_who_may_not_see(pages, world, session):
    rec = _edited(world, session)
    pages.sign_in("kg_expert")
    assert pages.get(f"/recommendations/{rec.id}/history").status_code == 404
    assert pages.get(f"/recommendations/{rec.id}/diff?from=1&to=2").status_code == 404
    assert pages.get("/recommendations/9999/history").status_code == 404


def test_the_history_links_the_changes_since_my_agency_approved(pages, world, session, make_client):
    rec = _edited(world, session, State.expert_consolidation, approved=True)  # approved rev 1, now rev 2
    pages.sign_in("kg_approver")
    page = pages.text(f"/recommendations/{rec.id}/history")
    assert "See the changes since your agency approved" in page
    assert f'/recommendations/{rec.id}/diff?from=1&amp;to=2' in page
    other = make_client()
    other.sign_in("uz_approver")  # UZ-CS decided nothing
    assert "changes since your agency approved" not in other.text(f"/recommendations/{rec.id}/history")
    fresh = world.bring_to(session, State.expert_consolidation, approved=True, title="Approved as it stands")
    session.commit()
    assert "changes since your agency approved" not in pages.text(f"/recommendations/{fresh.id}/history")


def test_the_diff_shows_words_inline_and_side_by_side(pages, world, session):
    rec = _edited(world, session)
    pages.sign_in("kz_expert")
    response = pages.get(f"/recommendations/{rec.id}/diff?from=1&to=2")
    assert response.status_code == 200
    page = _text(response)
    inline = _section(page, "diff-text")
    assert "<del>quarter</del>" in inline and "<ins>month</ins>" in inline
    assert "<del>shared</del>" in inline and "<ins>joint</ins>" in inline
    assert "Establish a joint working group" in inline  # unchanged words stay, unmarked
    old, new = _section(page, "diff-old"), _section(page, "diff-new")
    assert "<del>quarter</del>" in old and "<ins>" not in old and "month" not in old
    assert "<ins>month</ins>" in new and "<del>" not in new and "quarter" not in new
    # Without scripts both views show; the toggle is for diff.js to reveal.
    assert 'id="diff-inline"' in page and 'id="diff-side-by-side"' in page
    assert re.search(r"<div[^>]*data-diff-toggle[^>]*hidden", page)
    assert '<script src="/static/diff.js"' in page


def test_the_diff_of_a_revision_with_itself_says_so(pages, world, session):
    rec = _edited(world, session)
    pages.sign_in("kz_expert")
    response = pages.get(f"/recommendations/{rec.id}/diff?from=2&to=2")
    assert response.status_code == 200
    assert "The two revisions have the same text." in _text(response)


@pytest.mark.parametrize(
    "query",
    ["", "?from=1", "?to=2", "?from=abc&to=2", "?from=1&to=-2", "?from=0&to=2", "?from=1&to=99",
     "?from=1&to=2.5", "?from=1&to=99999999999999999999"],
)
def test_bad_revisions_to_compare_answer_a_sentence(pages, world, session, query):
    rec = _edited(world, session)
    pages.sign_in("kz_expert")
    response = pages.get(f"/recommendations/{rec.id}/diff{query}")
    assert response.status_code == 422
    page = _text(response)
    assert 'class="flash flash-error" role="alert"' in page and "revision" in page


def test_looking_changes_nothing(pages, world, session):
    rec, *_ = _clash(pages, world, session)
    copy = session.scalars(select(ConflictCopy).where(ConflictCopy.recommendation_id == rec.id)).one()
    before = snapshot(session)
    for path in (
        f"/recommendations/{rec.id}/edit",
        f"/recommendations/{rec.id}/edit?copy={copy.id}",
        f"/recommendations/{rec.id}/history",
        f"/recommendations/{rec.id}/history?page=2",
        f"/recommendations/{rec.id}/diff?from=1&to=2",
        f"/recommendations/{rec.id}/diff?from=2&to=1",
    ):
        assert pages.get(path).status_code == 200, path
    assert _preview(pages, "Some *text*", token=_token(pages)).status_code == 200
    assert snapshot(session) == before


def test_the_pages_keep_to_the_content_security_policy(pages, world, session):
    rec, *_ = _clash(pages, world, session)
    copy = session.scalars(select(ConflictCopy).where(ConflictCopy.recommendation_id == rec.id)).one()
    conflict = _save(pages, rec.id, body=BODY.replace("every quarter", "yearly"), base=1)
    assert conflict.status_code == 409
    responses = [conflict] + [
        pages.get(path)
        for path in (
            f"/recommendations/{rec.id}/edit",
            f"/recommendations/{rec.id}/edit?copy={copy.id}",
            f"/recommendations/{rec.id}/history",
            f"/recommendations/{rec.id}/diff?from=1&to=2",
        )
    ]
    for response in responses:
        page = _text(response)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script"
        assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
        assert not re.search(r"\sstyle\s*=", page), "inline style"
        for form in re.findall(r'<form method="post".*?</form>', page, re.DOTALL):
            assert 'name="csrf_token"' in form
