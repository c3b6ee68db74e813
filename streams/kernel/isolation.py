"""Running a computation over keyed entries so that the entries it fails on do not fail the
rest (the worker's timers over its tables; the per-message path has its own, which
dead-letters: ``streams.pipeline``)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


def isolating(items: Sequence[tuple[K, Any]], run: Callable[[Sequence[tuple[K, Any]]], R]
              ) -> tuple[R, list[tuple[K, Exception]]]:
    """``run(items)``, and no failed entries; if it raises, ``run`` of the items it does not
    raise on alone, and the keys of those it does with their errors. ``run`` must have no
    side effects: after a failure it runs once per item and once more."""
    try:
        return run(items), []
    except Exception:
        pass
    good: list[tuple[K, Any]] = []
    bad: list[tuple[K, Exception]] = []
    for item in items:
        try:
            run([item])
        except Exception as exc:
            bad.append((item[0], exc))
        else:
            good.append(item)
    return run(good), bad
