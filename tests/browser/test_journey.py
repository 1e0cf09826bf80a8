"""A recommendation's whole life, driven through the real pages in Chromium, as people would.

Each person works in a browser context of their own (their own cookies, their own session) and
finds their way by what the pages say: links, buttons and labelled fields, by role and name, so
a page that a screen reader could not name fails here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from accord.config import demo
from accord.workflow.audit_actions import AuditAction

from .conftest import ConsoleWatch, LiveServer, shoot

pytestmark = pytest.mark.browser

TITLE = "Joint risk analysis unit at each border crossing point"
FIRST_DRAFT = (
    "Border and customs agencies set up a joint risk analysis unit at each crossing point.\n\n"
    "Each agency seconds one analyst to the unit."
)
#: What aigerim types in the editor: Markdown the live preview has to render.
EDITOR_ADDITION = "The unit shares **risk profiles** weekly:\n\n- with the border guards\n- with customs"
REQUESTED_CHANGE = "Say how long an analyst is seconded for."
REVISED_SENTENCE = "Each agency seconds one analyst to the unit for at least two years."
CONSOLIDATED = "The unit follows the common risk analysis model of the programme."


# --- how a person gets around ---------------------------------------------------------------


def open_process(page: Page) -> None:
    """From any page: Processes in the main navigation, then the workshop."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Processes").click()
    page.get_by_role("link", name=demo.PROCESS_TITLE).click()
    expect(page.get_by_role("heading", level=1, name=demo.PROCESS_TITLE)).to_be_visible()


def open_recommendation(page: Page, title: str) -> None:
    """Through the process page, by the recommendation's title."""
    open_process(page)
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def inbox_card(page: Page, title: str):
    """The inbox card of one recommendation (an <article> headed by its title)."""
    return page.get_by_role("article").filter(has=page.get_by_role("heading", name=title, exact=True))


def flash(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def edit_text(page: Page, body: str, summary: str) -> None:
    """From a recommendation page: Edit the text, replace the body, say what changed, save."""
    page.get_by_role("link", name="Edit the text").click()
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Edit: "))).to_be_visible()
    page.get_by_label("Text (Markdown)").fill(body)
    page.get_by_label("What did you change?").fill(summary)
    page.get_by_role("button", name="Save as a new revision").click()
    flash(page, re.compile(r"^Saved as revision \d+"))


def audit_rows(page: Page) -> list[dict[str, str]]:
    """The audit table as the auditor reads it: one dict per row, keyed by column header."""
    table = page.get_by_role("region", name="Audit events").get_by_role("table")
    headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    rows = []
    for row in table.locator("tbody").get_by_role("row").all():
        cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


# --- the journey ------------------------------------------------------------------------------


def test_a_recommendation_from_first_draft_to_adoption(
    sign_in: Callable[..., Page], live_server: LiveServer, consoles: list[ConsoleWatch]
) -> None:
    # Aigerim, national expert of the Kazakh border service, drafts a recommendation at the
    # workshop, addressed to the Kyrgyz border service too.
    aigerim = sign_in("aigerim", screenshot="sign-in")
    shoot(aigerim, "inbox")
    open_process(aigerim)
    shoot(aigerim, "process")
    aigerim.get_by_role("link", name="Draft a recommendation").click()
    aigerim.get_by_label("Title").fill(TITLE)
    aigerim.get_by_label("Text (Markdown)").fill(FIRST_DRAFT)
    aigerim.get_by_role("checkbox", name=re.compile(r"^KG-BS\b")).check()
    shoot(aigerim, "new-recommendation")
    aigerim.get_by_role("button", name="Save the draft").click()
    expect(aigerim.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    flash(aigerim, "revision 1")
    rec_id = int(re.search(r"/recommendations/(\d+)$", aigerim.url).group(1))
    expect(aigerim.get_by_role("list", name="Where it stands").locator("[aria-current=step]")).to_have_text("Draft")

    # She edits it in the editor; the live preview renders her Markdown as she types.
    aigerim.get_by_role("link", name="Edit the text").click()
    expect(aigerim.get_by_role("heading", level=1, name=f"Edit: {TITLE}")).to_be_visible()
    # The editor is the page with the most script: the browser reports no error at all on
    # it (a Content Security Policy violation would be one), from loading to saving.
    console = ConsoleWatch(aigerim, "aigerim")
    aigerim.reload()  # the watch sees the editor load from the start
    body = aigerim.get_by_label("Text (Markdown)")
    preview = aigerim.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Each agency seconds one analyst")
    body.press("Control+End")
    aigerim.keyboard.press("Enter")
    aigerim.keyboard.press("Enter")
    body.press_sequentially(EDITOR_ADDITION)
    expect(preview.locator("strong")).to_have_text("risk profiles")
    expect(preview.get_by_role("listitem")).to_have_text(["with the border guards", "with customs"])
    aigerim.get_by_label("What did you change?").fill("How the unit shares risk profiles")
    shoot(aigerim, "editor")
    assert console.errors == [], f"the editor page reported console errors: {console.errors}"
    aigerim.get_by_role("button", name="Save as a new revision").click()
    flash(aigerim, "Saved as revision 2.")
    expect(aigerim.locator("#text strong")).to_have_text("risk profiles")
    assert console.errors == [], f"console errors after saving: {console.errors}"

    # ... and submits it for national review.
    aigerim.get_by_role("button", name="Submit for national review").click()
    flash(aigerim, "Done: the recommendation is now in the state “National review”.")

    # Chynara, approver of the Kyrgyz border service (an addressed agency), requests changes.
    chynara = sign_in("chynara")
    open_recommendation(chynara, TITLE)
    chynara.get_by_label("Reason").fill(REQUESTED_CHANGE)
    chynara.get_by_role("button", name="Request changes").click()
    flash(chynara, "Done: the recommendation is now in the state “Draft”.")

    # Aigerim finds it back in her inbox, revises and resubmits.
    aigerim.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    inbox_card(aigerim, TITLE).get_by_role("link", name=TITLE).click()
    edit_text(
        aigerim,
        FIRST_DRAFT.replace("Each agency seconds one analyst to the unit.", REVISED_SENTENCE)
        + "\n\n" + EDITOR_ADDITION,
        "Secondment period",
    )
    flash(aigerim, "Saved as revision 3.")
    aigerim.get_by_role("button", name="Submit for national review").click()
    flash(aigerim, "Done: the recommendation is now in the state “National review”.")

    # Serik, approver of the proposing agency, endorses it straight from his inbox.
    serik = sign_in("serik")
    inbox_card(serik, TITLE).get_by_role("button", name="Endorse for expert consolidation").click()
    flash(serik, "Done: the recommendation is now in the state “Expert consolidation”.")
    # The button brought him to the recommendation; he means to approve revision 3 for KZ-BS,
    # but does not click yet...
    expect(serik.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    stale_approve = serik.get_by_role("button", name="Approve revision 3 for KZ-BS")
    expect(stale_approve).to_be_visible()

    # ... while Ilze, EU expert, consolidates the text: revision 4.
    ilze = sign_in("ilze")
    open_recommendation(ilze, TITLE)
    edit_text(
        ilze,
        FIRST_DRAFT.replace("Each agency seconds one analyst to the unit.", REVISED_SENTENCE)
        + "\n\n" + EDITOR_ADDITION + "\n\n" + CONSOLIDATED,
        "Consolidated: the programme's risk model",
    )
    flash(ilze, "Saved as revision 4.")

    # A refused action: Serik's form still names revision 3. The answer is 409 and says that
    # nothing changed.
    with serik.expect_response(re.compile(r"/decisions$")) as answer:
        stale_approve.click()
    assert answer.value.status == 409
    expect(serik.get_by_role("heading", level=1, name="Not possible now")).to_be_visible()
    expect(serik.get_by_role("alert")).to_contain_text("Revision 3 is not the current one")
    expect(serik.get_by_text("Nothing was changed.")).to_be_visible()
    shoot(serik, "refused-409-stale-approval")
    serik.get_by_role("link", name="Go back").click()
    approvals = serik.get_by_role("region", name="Approvals")
    expect(approvals.get_by_role("row").filter(has_text="KZ-BS")).to_contain_text("no decision yet")

    # Both addressed agencies approve the current revision.
    serik.get_by_role("button", name="Approve revision 4 for KZ-BS").click()
    flash(serik, "Your agency's decision is recorded.")
    chynara.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    inbox_card(chynara, TITLE).get_by_role("link", name="Read and decide").click()
    chynara.get_by_role("button", name="Approve revision 4 for KG-BS").click()
    flash(chynara, "Your agency's decision is recorded.")
    approvals = chynara.get_by_role("region", name="Approvals")
    for code in ("KG-BS", "KZ-BS"):
        expect(approvals.get_by_role("row").filter(has_text=code)).to_contain_text("approves revision 4")

    # Ilze adopts it.
    ilze.reload()
    ilze.get_by_role("button", name="Adopt").click()
    flash(ilze, "Done: the recommendation is now in the state “Adopted”.")
    expect(ilze.get_by_role("list", name="Where it stands").locator("[aria-current=step]")).to_have_text("Adopted")
    shoot(ilze, "recommendation")

    # Its history: every revision, and what changed between two of them.
    ilze.get_by_role("link", name="history and changes").click()
    expect(ilze.get_by_role("heading", level=1, name="History of the text")).to_be_visible()
    revisions = ilze.get_by_role("table", name="4 revisions").locator("tbody").get_by_role("row")
    expect(revisions).to_have_count(4)
    for number, author, summary in (
        (1, "Aigerim Nurlanovna", ""),
        (2, "Aigerim Nurlanovna", "How the unit shares risk profiles"),
        (3, "Aigerim Nurlanovna", "Secondment period"),
        (4, "Ilze Kalniņa", "Consolidated: the programme's risk model"),
    ):
        row = revisions.filter(has=ilze.get_by_role("rowheader", name=re.compile(rf"^{number}\b")))
        expect(row).to_contain_text(author)
        expect(row).to_contain_text(summary)
    shoot(ilze, "history")
    open_diff(ilze, 1, 4)
    inline = ilze.get_by_role("region", name="Inline")
    expect(inline.locator("ins").filter(has_text="two years")).to_have_count(1)
    expect(inline.locator("ins").filter(has_text="common risk analysis model")).to_have_count(1)
    ilze.get_by_role("button", name="Side by side").click()
    expect(ilze.get_by_role("region", name="Side by side")).to_be_visible()
    shoot(ilze, "diff")

    # The auditor filters the audit log by the recommendation and finds every decision, with
    # its actor, in order; the refused approval left no trace.
    auditor = sign_in("auditor")
    auditor.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(auditor.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    auditor.get_by_label("Recommendation").fill(str(rec_id))
    auditor.get_by_label("Recommendation").press("Enter")
    events = audit_rows(auditor)
    # Each row shows the action's label beside its stored code ("Drafted create").
    for event in events:
        label, _, code = event["Action"].rpartition(" ")
        assert label == AuditAction(code).label, event["Action"]
        event["Action"] = code
    assert [(e["Action"], e["Actor"]) for e in events] == [
        ("create", "aigerim"),
        ("edit", "aigerim"),  # the editor visit before the first submission
        ("submit", "aigerim"),
        ("request_changes", "chynara"),
        ("edit", "aigerim"),
        ("submit", "aigerim"),
        ("endorse", "serik"),
        ("edit", "ilze"),
        ("approve", "serik"),
        ("approve", "chynara"),
        ("adopt", "ilze"),
    ]
    assert {e["Recommendation"] for e in events} == {f"#{rec_id}"}
    assert [e["Agency"] for e in events if e["Action"] == "approve"] == ["KZ-BS", "KG-BS"]
    assert next(e for e in events if e["Action"] == "request_changes")["Reason"] == REQUESTED_CHANGE
    auditor.get_by_role("button", name="Verify the chain now").click()
    expect(auditor.get_by_role("status").filter(has_text="Chain verification")).to_contain_text("intact")
    shoot(auditor, "audit")

    # The administrator's overview.
    admin = sign_in("admin")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Administration").click()
    expect(admin.get_by_role("heading", level=1, name="Administration")).to_be_visible()
    shoot(admin, "admin")

    # On every page anyone opened: no Content Security Policy violation, no script error.
    problems = [p for watch in consoles for p in watch.csp_violations + watch.uncaught]
    assert problems == [], problems


def open_diff(page: Page, old: int, new: int) -> None:
    """On the history page: choose two revisions and compare them."""
    page.get_by_label("From revision").select_option(str(old))
    page.get_by_label("To revision").select_option(str(new))
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1, name=f"Changes from revision {old} to revision {new}")).to_be_visible()


# --- what must be refused -------------------------------------------------------------------


def test_another_agencys_private_draft_is_not_found(
    sign_in: Callable[..., Page], live_server: LiveServer
) -> None:
    """Serik (KZ-BS) types the address of a Tajik customs draft: the page says there is nothing
    there, exactly as for an id that does not exist, so the draft's existence does not leak."""
    private = live_server.recommendation_id("Common risk indicators for inter-agency data exchange")
    serik = sign_in("serik")
    answer = serik.goto(f"/recommendations/{private}")
    assert answer is not None and answer.status == 404
    expect(serik.get_by_role("heading", level=1, name="Not found")).to_be_visible()
    expect(serik.get_by_text("Common risk indicators")).to_have_count(0)
    shoot(serik, "refused-404-private-draft")
    seen = serik.get_by_role("main").inner_text()
    absent = serik.goto("/recommendations/999999")
    assert absent is not None and absent.status == 404
    assert serik.get_by_role("main").inner_text() == seen


# --- never lose work ------------------------------------------------------------------------


def test_a_conflicting_edit_keeps_the_second_authors_text(
    sign_in: Callable[..., Page], live_server: LiveServer, consoles: list[ConsoleWatch]
) -> None:
    """Ilze and Kadri, EU experts, open the editor on the same revision and both rewrite the
    same paragraph. Ilze saves first; Kadri's save shows the conflict page with both versions,
    and her text is kept."""
    title = "Inter-agency coordination council at each border crossing point"
    ilze, kadri = sign_in("ilze"), sign_in("kadri")
    for page in (ilze, kadri):
        open_recommendation(page, title)
        page.get_by_role("link", name="Edit the text").click()
        expect(page.get_by_role("heading", level=1, name=f"Edit: {title}")).to_be_visible()

    original = ilze.get_by_label("Text (Markdown)").input_value()
    assert "meets weekly" in original
    ilze_text = original.replace("meets weekly", "meets monthly")
    kadri_text = original.replace("meets weekly", "meets every two weeks")
    ilze.get_by_label("Text (Markdown)").fill(ilze_text)
    kadri.get_by_label("Text (Markdown)").fill(kadri_text)

    ilze.get_by_role("button", name="Save as a new revision").click()
    flash(ilze, re.compile(r"^Saved as revision \d+\.$"))

    with kadri.expect_response(re.compile(r"/edit$")) as answer:
        kadri.get_by_role("button", name="Save as a new revision").click()
    assert answer.value.status == 409
    expect(kadri.get_by_role("heading", level=1, name="Your edit could not be merged")).to_be_visible()
    alert = kadri.get_by_role("alert")
    expect(alert).to_contain_text("Ilze Kalniņa saved revision")
    expect(alert).to_contain_text("Nothing you typed is lost")
    # Her text is still in the editor, and both versions are shown side by side.
    assert "meets every two weeks" in kadri.get_by_label("Text (Markdown)").input_value()
    comparison = kadri.get_by_role("region", name="The current text and yours")
    expect(comparison).to_contain_text("meets monthly")
    expect(comparison).to_contain_text("meets every two weeks")
    shoot(kadri, "conflict")

    # Later, the recommendation page offers her kept text again; she merges by hand and saves.
    open_recommendation(kadri, title)
    kadri.get_by_role("link", name="Reopen it in the editor").click()
    body = kadri.get_by_label("Text (Markdown)")
    assert "meets every two weeks" in body.input_value()
    body.fill(original.replace("meets weekly", "meets monthly, every two weeks at the busiest crossing points"))
    kadri.get_by_role("button", name="Save as a new revision").click()
    flash(kadri, re.compile(r"^Saved as revision \d+\.$"))
    expect(kadri.locator("#text")).to_contain_text("every two weeks at the busiest crossing points")
    expect(kadri.get_by_role("link", name="Reopen it in the editor")).to_have_count(0)
    problems = [p for watch in consoles for p in watch.csp_violations + watch.uncaught]
    assert problems == [], problems


# --- the keyboard alone -----------------------------------------------------------------------


def test_an_approver_reads_and_decides_with_the_keyboard_alone(
    sign_in: Callable[..., Page], live_server: LiveServer
) -> None:
    """Dana (KZ-SRC) skips to the content, tabs through the page to her agency's approval button
    and presses Enter: no mouse needed, and every stop on the way is a real control."""
    rec = live_server.recommendation_id("Inter-agency coordination council at each border crossing point")
    dana = sign_in("dana")
    dana.keyboard.press("Tab")
    expect(dana.get_by_role("link", name="Skip to content")).to_be_focused()
    dana.goto(f"/recommendations/{rec}")
    approve = dana.get_by_role("button", name=re.compile(r"^Approve revision \d+ for KZ-SRC$"))
    for _ in range(120):
        dana.keyboard.press("Tab")
        if approve.evaluate("button => button === document.activeElement"):
            break
        tag = dana.evaluate("document.activeElement.tagName")
        assert tag in {"A", "BUTTON", "INPUT", "TEXTAREA", "SELECT", "MAIN"}, tag
    else:
        raise AssertionError("the approval button cannot be reached with Tab")
    dana.keyboard.press("Enter")
    expect(dana.get_by_text("Your agency's decision is recorded.")).to_be_visible()
