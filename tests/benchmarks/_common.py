"""Small helpers for the benchmarks: timing and a printed table. Figures, never assertions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    ratio: float | None = None
    note: str = ""


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The fastest of `repeats` runs, in seconds: the least disturbed by a noisy machine."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def print_table(title: str, figures: list[Figure]) -> None:
    print(f"\n{title}")
    width = max(len(f.name) for f in figures)
    for f in figures:
        ratio = f"  ×{f.ratio:,.2f}" if f.ratio is not None else ""
        note = f"  ({f.note})" if f.note else ""
        print(f"  {f.name:<{width}}  {f.value:>14,.3f} {f.unit}{ratio}{note}")
