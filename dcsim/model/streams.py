"""Named random streams: one generator per process instance, derived from the seed.

A stream's draws depend only on (root seed, replication, name), never on which
other streams exist or in what order they are used. So adding a site leaves
every other site's draws untouched, and replication *i* of two variants of a
scenario draws the same numbers (common random numbers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np


def _name_key(name: str) -> tuple[int, int]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")


class Streams:
    """Generators for one replication, created on first use and cached by name."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        rng = self._cache.get(name)
        if rng is None:
            sequence = np.random.SeedSequence(
                entropy=self.seed, spawn_key=(self.replication, *_name_key(name))
            )
            rng = np.random.Generator(np.random.PCG64(sequence))
            self._cache[name] = rng
        return rng


_BLOCK = 256


class DrawnAhead:
    """Draws of a stream that nothing else draws from, taken ahead in blocks: uniforms,
    or with ``exponential`` Exp(1) draws (NumPy's ziggurat, a tenth of the time of
    ``-log1p(-u)`` of a uniform each).

    A block from ``rng.random(n)`` (or ``rng.standard_exponential(n)``) holds the same
    numbers as ``n`` calls of ``rng.random()``, so the sample path is the one the calls
    give; each call into NumPy costs more than the work a draw feeds in the hottest loops
    (background arrivals). Only for a stream used by one consumer: another one drawing
    in between would see numbers this one already took.
    """

    __slots__ = ("_ahead", "_draw", "rng")

    def __init__(self, rng: np.random.Generator, exponential: bool = False) -> None:
        self.rng = rng
        self._draw: Callable[[int], np.ndarray] = (
            rng.standard_exponential if exponential else rng.random
        )
        self._ahead: list[float] = []  # used last-first

    def next(self) -> float:
        if not self._ahead:
            self._ahead = self._draw(_BLOCK).tolist()[::-1]
        return self._ahead.pop()

    def take_array(self, count: int) -> np.ndarray:
        """The next ``count`` draws, in order, as an array (drawn as one block when none
        are left over from an earlier block)."""
        if not self._ahead:
            return self._draw(count)
        return np.array(self.take(count), dtype=np.float64)

    def take(self, count: int) -> list[float]:
        """The next ``count`` draws, in order."""
        if count <= 0:
            return []  # (ahead[-0:] would be all of them)
        ahead = self._ahead
        if len(ahead) < count:
            ahead[:0] = self._draw(max(_BLOCK, count)).tolist()[::-1]
        taken = ahead[-count:]
        del ahead[-count:]
        taken.reverse()
        return taken
