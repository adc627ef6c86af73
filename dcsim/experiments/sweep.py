"""A factorial sweep: every combination of the listed values of the swept keys."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pandas as pd

from dcsim.experiments.runner import run
from dcsim.input.overrides import override
from dcsim.input.spec import Scenario


def sweep(
    scenario: Scenario,
    grid: dict[str, list[object]],
    *,
    years: float | None = None,
    replications: int = 10,
    seed: int | None = None,
    workers: int | None = None,
    on_point: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One summary row per grid point, site and replication, with the point's values as columns.

    Every point is validated before any is run, so a bad value fails at once.
    """
    keys = list(grid)
    points = list(itertools.product(*(grid[k] for k in keys)))
    specs = [
        override(scenario, dict(zip(keys, point, strict=True)), source="--grid") for point in points
    ]
    frames = []
    for index, (point, spec) in enumerate(zip(points, specs, strict=True)):
        if on_point is not None:
            on_point(index, len(points))
        summary = run(
            spec,
            years=years,
            replications=replications,
            seed=scenario.seed if seed is None else seed,
            workers=workers,
        ).summary
        summary.insert(0, "point", index)
        for position, (key, value) in enumerate(zip(keys, point, strict=True)):
            summary.insert(1 + position, key, str(value))
        frames.append(summary)
    return pd.concat(frames, ignore_index=True)
