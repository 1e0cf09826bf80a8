"""How many sequences the stateful test plays, and from which seed.

A run plays a few sequences from a fresh random seed (so successive runs explore different
sequences instead of replaying the same ones); CI plays the full hundred on one leg. The seed is
chosen once per pytest process, printed in the report header and attached to a failure, so that
any run can be replayed exactly with the same number of examples and the same seed.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from functools import cache

import pytest

EXAMPLES_ENV = "ACCORD_STATEFUL_EXAMPLES"
SEED_ENV = "ACCORD_STATEFUL_SEED"
MIN_STEPS_ENV = "ACCORD_STATEFUL_MIN_STEPS"

#: Sequences played by default: enough to reach every state and rule on most runs (the whole
#: 100 runs in CI). Each costs about three seconds on SQLite.
DEFAULT_EXAMPLES = 15
#: Steps of each sequence.
STEPS = 50


@dataclass(frozen=True)
class StatefulRun:
    examples: int
    seed: int
    #: Hypothesis may not end a sequence before this many steps (it would end a third of them
    #: early, exploring "stop here" branches); 0 lets it shrink a failure to fewer steps.
    min_steps: int

    def replay(self) -> str:
        """The environment that plays this very run again."""
        return f"{EXAMPLES_ENV}={self.examples} {SEED_ENV}={self.seed}"

    def describe(self) -> str:
        return (
            f"accord stateful test: {self.examples} sequences of {STEPS} steps, seed {self.seed} "
            f"(replay with {self.replay()} pytest tests/property)"
        )


def _int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(f"{name} must be a whole number, not {value!r}.") from None


@cache
def chosen_run() -> StatefulRun:
    """The run of this pytest process (the same answer for the header and the test)."""
    return StatefulRun(
        examples=_int_from_env(EXAMPLES_ENV, DEFAULT_EXAMPLES),
        seed=_int_from_env(SEED_ENV, random.SystemRandom().randrange(2**32)),
        min_steps=_int_from_env(MIN_STEPS_ENV, STEPS),
    )
