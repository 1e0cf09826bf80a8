"""word_diff against a plain difflib.SequenceMatcher on the same input.

    python -m tests.benchmarks.bench_diff [--size 200000] [--rate 0.05] [--repeats 3]

The input is a synthetic recommendation (paragraphs of words from a 3,000-word
vocabulary plus frequent function words and punctuation); the new version has `rate`
of its words replaced, inserted or deleted. Both contenders diff the same tokens (words,
whitespace runs, punctuation). The plain SequenceMatcher keeps its default autojunk=True,
the setting that makes it usable at this size at all, at the price of treating frequent
tokens as junk. Besides time, the table shows how much text each marks as changed:
smaller is a tighter diff.
"""

from __future__ import annotations

import argparse
import difflib
import random

from accord.workflow.diffing import _TOKEN, word_diff

from ._common import Figure, best_of, print_table


def make_document(rng: random.Random, size: int) -> tuple[str, list[str]]:
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
        for _ in range(3000)
    ]
    common = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "shall"]
    paragraphs: list[str] = []
    total = 0
    while total < size:
        words: list[str] = []
        for _ in range(rng.randint(40, 160)):
            words.append(rng.choice(common) if rng.random() < 0.3 else rng.choice(vocabulary))
            if rng.random() < 0.08:
                words.append(rng.choice([",", ";", "."]))
        paragraph = " ".join(words)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs) + "\n", vocabulary


def edit_words(rng: random.Random, text: str, vocabulary: list[str], rate: float) -> str:
    out: list[str] = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < rate / 3:
            out.append(rng.choice(vocabulary))
        elif roll < 2 * rate / 3:
            out.extend([word, rng.choice(vocabulary)])
        elif roll >= rate:
            out.append(word)
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000, help="characters (default 200000)")
    parser.add_argument("--rate", type=float, default=0.05, help="share of words edited")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(20240601)
    old, vocabulary = make_document(rng, args.size)
    new = edit_words(rng, old, vocabulary, args.rate)
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)

    ops = word_diff(old, new)
    ours_changed = sum(len(text) for kind, text in ops if kind != "equal")
    ours = best_of(args.repeats, lambda: word_diff(old, new))

    opcodes = difflib.SequenceMatcher(None, old_tokens, new_tokens).get_opcodes()
    plain_changed = sum(
        len("".join(old_tokens[i1:i2])) + len("".join(new_tokens[j1:j2]))
        for tag, i1, i2, j1, j2 in opcodes
        if tag != "equal"
    )
    plain = best_of(
        args.repeats,
        lambda: difflib.SequenceMatcher(None, old_tokens, new_tokens).get_opcodes(),
    )

    total = len(old) + len(new)
    print_table(
        f"word diff, {len(old):,} characters ({len(old_tokens):,} tokens), "
        f"{args.rate:.0%} of words edited, best of {args.repeats}",
        [
            Figure(
                "word_diff", ours * 1000, "ms", note=f"{ours_changed / total:.1%} marked changed"
            ),
            Figure(
                "SequenceMatcher (plain)",
                plain * 1000,
                "ms",
                ratio=plain / ours,
                note=f"{plain_changed / total:.1%} marked changed",
            ),
        ],
    )


if __name__ == "__main__":
    main()
