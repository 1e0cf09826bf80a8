"""Three-way merge of recommendation text: both edits, or an honest conflict.

Two people edit from the same base revision; the second save is merged with the first
only if their changes touch separate lines. There is no fuzzy patching: a change is
never applied "near" where it was made, because a misplaced clause in a recommendation
changes its meaning and nobody would notice.

Granularity is the line. In Markdown a paragraph is a line, so two edits to different
paragraphs merge; two edits to the same paragraph conflict even if they touch different
words. merge3 (the Bazaar algorithm) also treats changes on *adjacent* lines as a
conflict, and a change plus an insertion right next to it too. That is deliberate and we
keep it: adjacent lines of legal text are rarely independent (a list item and the
sentence introducing it, a clause and its exception), so a person decides.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import merge3

from .diffing import matching_blocks

__all__ = ["MergeResult", "merge_field", "merge_texts"]


@dataclass(frozen=True)
class MergeResult:
    """``text`` is the merged text when the merge is clean, else None."""

    text: str | None
    conflicts: int

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


class _BoundedMatcher:
    """merge3's sequence-matcher interface over diffing.matching_blocks.

    merge3 defaults to difflib.SequenceMatcher, whose cost explodes on text with many
    repeated lines (measured: 18 s for 50,000 short lines drawn from 120 distinct ones,
    an input anyone can paste). matching_blocks has a bounded cost; when it gives up on a
    region it reports fewer matches, which can only make merge regions coarser.
    """

    def __init__(
        self,
        isjunk: object = None,
        a: Sequence[Hashable] = (),
        b: Sequence[Hashable] = (),
        autojunk: bool = True,
    ) -> None:
        # isjunk/autojunk are part of the interface merge3 calls; there is no junk here.
        self._a, self._b = a, b

    def get_matching_blocks(self) -> list[tuple[int, int, int]]:
        return matching_blocks(self._a, self._b)


def _lines(text: str) -> tuple[list[str], bool]:
    """Lines of ``text``, each ending in "\\n", and whether ``text`` itself did.

    Without this, "last paragraph" and "last paragraph\\n" are different lines, so one
    side adding or dropping the final newline would conflict with any edit of the last
    paragraph on the other side. The final newline is merged separately, as a flag.
    We split on "\\n" only (not str.splitlines): form feeds or U+2028 inside a paragraph
    must not become line boundaries that nobody can see.
    """
    if not text:
        return [], False
    ends_with_newline = text.endswith("\n")
    if not ends_with_newline:
        text += "\n"
    return [line + "\n" for line in text.split("\n")[:-1]], ends_with_newline


def merge_texts(base: str, mine: str, theirs: str) -> MergeResult:
    """Merge two edits of ``base``. Clean only when no line was changed differently on
    both sides (and no change sits on a line adjacent to the other side's change).

    Line endings are compared as they are: callers should store text with "\\n" only.
    """
    base_lines, base_nl = _lines(base)
    mine_lines, mine_nl = _lines(mine)
    theirs_lines, theirs_nl = _lines(theirs)

    merged: list[str] = []
    conflicts = 0
    merger = merge3.Merge3(base_lines, mine_lines, theirs_lines, sequence_matcher=_BoundedMatcher)
    for group in merger.merge_groups():
        if group[0] == "conflict":
            conflicts += 1
        else:
            # "unchanged", "same" (both made the same change), "a" (mine), "b" (theirs)
            merged.extend(group[1])
    if conflicts:
        return MergeResult(text=None, conflicts=conflicts)

    text = "".join(merged)
    # The final newline is a one-bit field, merged like merge_field: whichever side
    # changed it wins (both changing it means both chose the same value).
    wants_newline = theirs_nl if mine_nl == base_nl else mine_nl
    if not wants_newline and text.endswith("\n"):
        text = text[:-1]
    return MergeResult(text=text, conflicts=0)


def merge_field(base: str, mine: str, theirs: str) -> str | None:
    """Merge a single-value field such as the title: the side that changed it wins; if
    both changed it, they must agree, else None (a conflict)."""
    if mine == theirs or theirs == base:
        return mine
    if mine == base:
        return theirs
    return None
