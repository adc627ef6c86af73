"""Named random streams: one generator per process instance, derived from the seed.

A stream's draws depend only on (root seed, replication, name), never on which
other streams exist or in what order they are used. So adding a site leaves
every other site's draws untouched, and replication *i* of two variants of a
scenario draws the same numbers (common random numbers).
"""

from __future__ import annotations

import hashlib

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
