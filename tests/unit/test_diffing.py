"""word_diff: exact ops on small cases, exact reconstruction always, sane on big texts."""

from __future__ import annotations

import difflib
import itertools
import random
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.workflow import diffing
from accord.workflow.diffing import DiffOp, matching_blocks, word_diff


def old_side(ops: list[DiffOp]) -> str:
    return "".join(text for kind, text in ops if kind != "insert")


def new_side(ops: list[DiffOp]) -> str:
    return "".join(text for kind, text in ops if kind != "delete")


def assert_well_formed(old: str, new: str, ops: list[DiffOp]) -> None:
    assert old_side(ops) == old
    assert new_side(ops) == new
    assert all(kind in ("equal", "insert", "delete") for kind, _ in ops)
    assert all(text for _, text in ops), "empty op text"
    pairs = list(itertools.pairwise(ops))
    assert all(a[0] != b[0] for a, b in pairs), "adjacent ops of one kind"
    # A replacement reads "delete, then insert", never the other way round.
    assert all(not (a[0] == "insert" and b[0] == "delete") for a, b in pairs)


# ---------------------------------------------------------------- exact small cases


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "the cat sat",
            "the dog sat",
            [("equal", "the "), ("delete", "cat"), ("insert", "dog"), ("equal", " sat")],
            id="word-replaced",
        ),
        pytest.param(
            "a b c", "a b x c", [("equal", "a b "), ("insert", "x "), ("equal", "c")],
            id="word-inserted",
        ),
        pytest.param(
            "keep this word", "keep word", [("equal", "keep "), ("delete", "this "),
                                            ("equal", "word")],
            id="word-deleted",
        ),
        pytest.param(
            "Hello, world.",
            "Hello; world!",
            [("equal", "Hello"), ("delete", ","), ("insert", ";"), ("equal", " world"),
             ("delete", "."), ("insert", "!")],
            id="punctuation",
        ),
        pytest.param(
            "the cat", "the cat.", [("equal", "the cat"), ("insert", ".")],
            id="punctuation-added",
        ),
        pytest.param(
            "a  b", "a b", [("equal", "a"), ("delete", "  "), ("insert", " "), ("equal", "b")],
            id="whitespace-change",
        ),
        pytest.param("", "new text", [("insert", "new text")], id="empty-old"),
        pytest.param("old text", "", [("delete", "old text")], id="empty-new"),
        pytest.param("same text.", "same text.", [("equal", "same text.")], id="identical"),
        pytest.param("", "", [], id="both-empty"),
        pytest.param("x", "y", [("delete", "x"), ("insert", "y")], id="single-token"),
        pytest.param(
            "élan vital", "élan mortal",
            [("equal", "élan "), ("delete", "vital"), ("insert", "mortal")],
            id="unicode-words",
        ),
        pytest.param(
            "First paragraph here.\n\nSecond one is here.\n",
            "First paragraph here.\n\nSecond one was here.\n",
            [("equal", "First paragraph here.\n\nSecond one "), ("delete", "is"),
             ("insert", "was"), ("equal", " here.\n")],
            id="second-paragraph",
        ),
        pytest.param(
            "Alpha one.\n\nBeta two.\n\nGamma three.\n",
            "Alpha one. Beta two.\n\nGamma three.\n",
            [("equal", "Alpha one."), ("delete", "\n\n"), ("insert", " "),
             ("equal", "Beta two.\n\nGamma three.\n")],
            id="paragraphs-merged",
        ),
        pytest.param(
            "a\r\nb\r\n", "a\nb\n",
            [("equal", "a"), ("delete", "\r\n"), ("insert", "\n"), ("equal", "b"),
             ("delete", "\r\n"), ("insert", "\n")],
            id="line-endings-are-changes",
        ),
    ],
)  # fmt: skip
def test_exact_ops(old: str, new: str, expected: list[DiffOp]) -> None:
    ops = word_diff(old, new)
    assert ops == expected
    assert_well_formed(old, new, ops)


def test_change_is_not_aligned_across_paragraphs() -> None:
    # Every paragraph edited: blank lines alone must not pair paragraph 2 with paragraph 3.
    old = "\n\n".join(f"Paragraph {n} says alpha beta gamma {n}." for n in range(1, 6)) + "\n"
    new = old.replace("alpha", "ALPHA")
    ops = word_diff(old, new)
    assert_well_formed(old, new, ops)
    assert [t for k, t in ops if k == "delete"] == ["alpha"] * 5
    assert [t for k, t in ops if k == "insert"] == ["ALPHA"] * 5


# ---------------------------------------------------------------- properties

WORDS = ["the", "agency", "shall", "report", "a", "b", "x", "1", "2024", "élan", "Ω"]
PIECES = [*WORDS, " ", "  ", "\n", "\n\n", "\t", "\r\n", ",", ".", ";", "(", ")", "-", "'"]

texts = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)


@st.composite
def edited_pair(draw: st.DrawFn) -> tuple[str, str]:
    """An old text and a new one derived from it by a few edits (realistic diffs)."""
    pieces = draw(st.lists(st.sampled_from(PIECES), max_size=400))
    edited = list(pieces)
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(edited)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(PIECES))
        if action == "insert" or not edited or at == len(edited):
            edited.insert(at, piece)
        elif action == "delete":
            del edited[at]
        else:
            edited[at] = piece
    return "".join(pieces), "".join(edited)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(texts, texts)
def test_reconstructs_unrelated_texts(old: str, new: str) -> None:
    assert_well_formed(old, new, word_diff(old, new))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(edited_pair())
def test_reconstructs_edited_texts(pair: tuple[str, str]) -> None:
    old, new = pair
    assert_well_formed(old, new, word_diff(old, new))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=200), st.text(max_size=200))
def test_reconstructs_arbitrary_unicode(old: str, new: str) -> None:
    assert_well_formed(old, new, word_diff(old, new))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(edited_pair())
def test_reconstructs_when_every_shortcut_is_taken(pair: tuple[str, str]) -> None:
    # A tiny window forces anchor splitting, a tiny budget forces the coarse fallback:
    # the diff may get coarser, never wrong.
    old, new = pair
    with (
        mock.patch.object(diffing, "_MATCHER_WINDOW", 4),
        mock.patch.object(diffing, "_WORK_BUDGET", 40),
    ):
        assert_well_formed(old, new, word_diff(old, new))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(texts)
def test_identical_texts_are_one_equal_op(text: str) -> None:
    assert word_diff(text, text) == ([("equal", text)] if text else [])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from("abcde\n"), max_size=300),
    st.lists(st.sampled_from("abcde\n"), max_size=300),
)
def test_matching_blocks_are_true_and_ordered(a: list[str], b: list[str]) -> None:
    blocks = matching_blocks(a, b)
    assert blocks[-1] == (len(a), len(b), 0)
    end_a = end_b = 0
    for i, j, n in blocks[:-1]:
        assert n > 0 and i >= end_a and j >= end_b
        assert a[i : i + n] == b[j : j + n]
        end_a, end_b = i + n, j + n


def test_matching_blocks_match_as_much_as_difflib_on_small_input() -> None:
    a, b = list("the cat sat on the mat"), list("the dog sat on a mat")
    reference = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    assert sum(n for _, _, n in matching_blocks(a, b)) == sum(m.size for m in reference)


# ---------------------------------------------------------------- big inputs


def _document(rng: random.Random, size: int) -> tuple[str, list[str]]:
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
        for _ in range(3000)
    ]
    common = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "shall"]
    paragraphs: list[str] = []
    total = 0
    while total < size:
        words = []
        for _ in range(rng.randint(40, 160)):
            words.append(rng.choice(common) if rng.random() < 0.3 else rng.choice(vocabulary))
            if rng.random() < 0.08:
                words.append(rng.choice([",", ";", "."]))
        paragraph = " ".join(words)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs) + "\n", vocabulary


def _edit_words(rng: random.Random, text: str, vocabulary: list[str], rate: float) -> str:
    out: list[str] = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < rate / 3:
            out.append(rng.choice(vocabulary))  # replaced
        elif roll < 2 * rate / 3:
            out.extend([word, rng.choice(vocabulary)])  # inserted after
        elif roll >= rate:
            out.append(word)  # else: deleted
    return " ".join(out)


def test_200kb_with_5_percent_of_words_changed() -> None:
    rng = random.Random(20240601)
    old, vocabulary = _document(rng, 200_000)
    new = _edit_words(rng, old, vocabulary, rate=0.05)
    ops = word_diff(old, new)
    assert_well_formed(old, new, ops)
    # Not degenerate: about 5 % of the words changed, so the changed text is a small
    # share of both sides (a coarse delete-all/insert-all would be ~100 %).
    changed = sum(len(text) for kind, text in ops if kind != "equal")
    assert changed < 0.1 * (len(old) + len(new))


def test_200kb_on_a_single_line() -> None:
    rng = random.Random(7)
    old, vocabulary = _document(rng, 200_000)
    old = old.replace("\n", " ")
    new = _edit_words(rng, old, vocabulary, rate=0.05)
    ops = word_diff(old, new)
    assert_well_formed(old, new, ops)
    assert sum(len(t) for k, t in ops if k != "equal") < 0.1 * (len(old) + len(new))


def test_adversarial_repetition_still_exact() -> None:
    # Inputs that make SequenceMatcher super-quadratic: bounded by the budget, still exact.
    old = "".join(".," * 100 + f" w{i} " for i in range(300))
    new = "".join("..,," * 50 + f" w{i} " for i in range(300))
    assert_well_formed(old, new, word_diff(old, new))
