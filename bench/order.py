"""The order in which side-by-side runs take the machine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

Round = TypeVar("Round")


def side_by_side(rounds: Iterable[Round], names: Sequence[str]) -> Iterator[tuple[Round, str]]:
    """Each name once per round (a seed, a repeat), the order turned by one every round (for
    two names: alternated), so that a slow spell of the machine hits no one always."""
    names = list(names)
    for k, round_ in enumerate(rounds):
        turn = k % max(1, len(names))
        for name in names[turn:] + names[:turn]:
            yield round_, name
