"""Three-way merge: separate paragraphs merge, anything ambiguous is a conflict."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.workflow.merging import MergeResult, merge_field, merge_texts

BASE = "Scope.\n\nFindings one.\n\nFindings two.\n\nRecommendation."


def merged(base: str, mine: str, theirs: str) -> str:
    result = merge_texts(base, mine, theirs)
    assert result.clean, f"unexpected conflict: {result}"
    assert result.text is not None
    return result.text


def assert_conflict(base: str, mine: str, theirs: str) -> MergeResult:
    result = merge_texts(base, mine, theirs)
    assert not result.clean
    assert result.conflicts >= 1
    assert result.text is None
    return result


def test_result_is_frozen() -> None:
    result = merge_texts("a", "a", "a")
    with pytest.raises(AttributeError):
        result.text = "b"  # type: ignore[misc]


def test_non_overlapping_paragraph_edits_merge() -> None:
    mine = BASE.replace("Scope.", "Scope, revised.")
    theirs = BASE.replace("Recommendation.", "Recommendation, amended.")
    assert merged(BASE, mine, theirs) == (
        "Scope, revised.\n\nFindings one.\n\nFindings two.\n\nRecommendation, amended."
    )


def test_edits_to_neighbouring_paragraphs_merge() -> None:
    # Paragraphs are separated by a blank line, which neither side touched.
    mine = BASE.replace("Findings one.", "Findings one, clarified.")
    theirs = BASE.replace("Findings two.", "Findings two, clarified.")
    assert merged(BASE, mine, theirs) == (
        "Scope.\n\nFindings one, clarified.\n\nFindings two, clarified.\n\nRecommendation."
    )


def test_overlapping_edits_conflict() -> None:
    mine = BASE.replace("Findings one.", "Findings one, per agency A.")
    theirs = BASE.replace("Findings one.", "Findings one, per agency B.")
    assert assert_conflict(BASE, mine, theirs).conflicts == 1


def test_edits_to_different_words_of_one_paragraph_conflict() -> None:
    # Line granularity: a paragraph is one line, so both edits touch the same line.
    mine = BASE.replace("Findings one.", "Key findings one.")
    theirs = BASE.replace("Findings one.", "Findings one, confirmed.")
    assert_conflict(BASE, mine, theirs)


def test_each_conflicting_region_is_counted() -> None:
    mine = BASE.replace("Scope.", "Scope A.").replace("Recommendation.", "Rec A.")
    theirs = BASE.replace("Scope.", "Scope B.").replace("Recommendation.", "Rec B.")
    assert assert_conflict(BASE, mine, theirs).conflicts == 2


def test_insertions_at_different_places_merge() -> None:
    mine = BASE.replace("Scope.\n\n", "Scope.\n\nBackground.\n\n")
    theirs = BASE.replace("Findings two.\n\n", "Findings two.\n\nFindings three.\n\n")
    assert merged(BASE, mine, theirs) == (
        "Scope.\n\nBackground.\n\nFindings one.\n\nFindings two.\n\nFindings three."
        "\n\nRecommendation."
    )


def test_same_insertion_on_both_sides_merges_once() -> None:
    both = BASE + "\n\nAnnex."
    assert merged(BASE, both, both) == both


def test_different_insertions_at_the_same_place_conflict() -> None:
    assert_conflict(BASE, BASE + "\n\nAnnex A.", BASE + "\n\nAnnex B.")


def test_both_deleting_the_same_paragraph_merges() -> None:
    without = BASE.replace("Findings two.\n\n", "")
    assert merged(BASE, without, without) == without


def test_one_deletes_and_other_edits_elsewhere_merges() -> None:
    mine = BASE.replace("Findings two.\n\n", "")
    theirs = BASE.replace("Scope.", "Scope, revised.")
    assert merged(BASE, mine, theirs) == "Scope, revised.\n\nFindings one.\n\nRecommendation."


def test_one_deletes_a_paragraph_the_other_edits_conflicts() -> None:
    mine = BASE.replace("Findings two.\n\n", "")
    theirs = BASE.replace("Findings two.", "Findings two, with data.")
    assert_conflict(BASE, mine, theirs)
    assert_conflict(BASE, theirs, mine)


def test_adjacent_line_edits_conflict() -> None:
    # Two consecutive lines with nothing unchanged between them: merge3 cannot find a
    # stable line separating the edits and reports one conflict. That is the safe
    # outcome for legal text: adjacent lines (a list item and the sentence that
    # introduces it, a clause and its exception) are rarely independent.
    base = "The agency shall:\n- report yearly\n- publish the report\n"
    mine = "The agency shall, within its mandate:\n- report yearly\n- publish the report\n"
    theirs = "The agency shall:\n- report quarterly\n- publish the report\n"
    assert assert_conflict(base, mine, theirs).conflicts == 1


def test_edit_next_to_an_insertion_conflicts() -> None:
    # Same reasoning: appending a paragraph right after one the other side rewrote.
    base = "First.\n\nLast."
    assert_conflict(base, "First.\n\nLast, rewritten.", "First.\n\nLast.\n\nAppended.")


def test_trailing_newline_difference_is_not_a_conflict() -> None:
    base = "Scope.\n\nFindings."
    mine = "Scope.\n\nFindings.\n"  # only the final newline added
    theirs = "Scope.\n\nFindings, revised."
    assert merged(base, mine, theirs) == "Scope.\n\nFindings, revised.\n"
    assert merged(base, theirs, mine) == "Scope.\n\nFindings, revised.\n"


def test_trailing_newline_removed_on_one_side() -> None:
    base = "Scope.\n\nFindings.\n"
    mine = "Scope.\n\nFindings."
    theirs = "Scope, revised.\n\nFindings.\n"
    assert merged(base, mine, theirs) == "Scope, revised.\n\nFindings."


def test_empty_texts() -> None:
    assert merged("", "", "") == ""
    assert merged("", "New text.", "") == "New text."
    assert merged("Old text.", "", "Old text.") == ""
    assert_conflict("", "Mine.", "Theirs.")


def test_many_repeated_lines_stay_exact() -> None:
    # Repetitive input exercises the bounded matcher; separated edits still merge.
    base = "\n".join(["| x | y |"] * 2000)
    lines = base.split("\n")
    mine_lines, theirs_lines = list(lines), list(lines)
    mine_lines[10] = "| mine | y |"
    theirs_lines[1500] = "| theirs | y |"
    result = merged(base, "\n".join(mine_lines), "\n".join(theirs_lines))
    expected = list(lines)
    expected[10], expected[1500] = "| mine | y |", "| theirs | y |"
    assert result == "\n".join(expected)


# ---------------------------------------------------------------- merge_field


@pytest.mark.parametrize(
    ("base", "mine", "theirs", "expected"),
    [
        ("Title", "Title", "Title", "Title"),
        ("Title", "New title", "Title", "New title"),  # only mine changed
        ("Title", "Title", "Their title", "Their title"),  # only theirs changed
        ("Title", "Same new", "Same new", "Same new"),  # both, identically
        ("Title", "Mine", "Theirs", None),  # both, differently: conflict
        ("Title", "", "Title", ""),  # clearing is a change like any other
        ("Title", "title", "Title", "title"),  # case matters
    ],
)
def test_merge_field(base: str, mine: str, theirs: str, expected: str | None) -> None:
    assert merge_field(base, mine, theirs) == expected


# ---------------------------------------------------------------- properties

PARAGRAPHS = ["Scope.", "Findings.", "Data.", "Rec.", "", "- item", "| a |", "Annex.", "x"]
documents = st.lists(st.sampled_from(PARAGRAPHS), max_size=25).map("\n".join) | st.text(
    alphabet=st.sampled_from(["a", "b", "\n", " ", "é"]), max_size=60
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(documents, documents)
def test_untouched_side_yields_the_other(base: str, edited: str) -> None:
    assert merge_texts(base, base, edited) == MergeResult(text=edited, conflicts=0)
    assert merge_texts(base, edited, base) == MergeResult(text=edited, conflicts=0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(documents, documents)
def test_same_edit_on_both_sides_yields_it(base: str, edited: str) -> None:
    assert merge_texts(base, edited, edited) == MergeResult(text=edited, conflicts=0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(documents)
def test_merging_a_text_with_itself_is_the_text(text: str) -> None:
    assert merge_texts(text, text, text) == MergeResult(text=text, conflicts=0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(documents, documents, documents)
def test_merge_is_symmetric_in_cleanliness(base: str, mine: str, theirs: str) -> None:
    # Swapping the sides never turns a conflict into a clean merge or back.
    assert merge_texts(base, mine, theirs).clean == merge_texts(base, theirs, mine).clean


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=30), st.text(max_size=30))
def test_merge_field_properties(base: str, edited: str) -> None:
    assert merge_field(base, base, edited) == edited
    assert merge_field(base, edited, base) == edited
    assert merge_field(base, edited, edited) == edited
