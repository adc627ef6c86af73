"""A factorial sweep: every combination of the listed values of the swept keys."""

from __future__ import annotations

import collections
import itertools

import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.runner import Plan, check_counts, summaries
from dcsim.input.overrides import override, with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import Layer


def sweep(
    scenario: Scenario,
    grid: dict[str, list[object]],
    *,
    years: float | None = None,
    replications: int = 10,
    seed: int | None = None,
    workers: int | None = None,
    plan: Plan | None = None,
) -> pd.DataFrame:
    """One summary row per grid point, site and replication, with the point's values as columns.

    Every point is validated before any is run, so a bad value fails at once; then all
    points' replications run as one batch of tasks, every worker busy to the end.
    """
    check_counts(replications, years, workers)
    for key, values in grid.items():
        # A value twice would be two points with the same draws: its rows counted twice,
        # and its interval made narrower than its replications give.
        counted = collections.Counter(repr(value) for value in values)
        twice = sorted(text for text, count in counted.items() if count > 1)
        if twice:
            raise DcsimError(
                f"--grid {key}: {', '.join(twice)} given more than once; each value is one"
                " point of the sweep. Give each once (more replications: --reps)."
            )
    keys = list(grid)
    points = list(itertools.product(*(grid[k] for k in keys)))
    seed = scenario.seed if seed is None else seed
    runs = {
        f"point {index}": (
            with_run_settings(
                override(scenario, dict(zip(keys, point, strict=True)), source="--grid"),
                years=years,
                seed=seed,
            ),
            frozenset[Layer](),
        )
        for index, point in enumerate(points)
    }
    tables = summaries(runs, replications, plan or Plan(workers=workers))
    frames = []
    for index, (point, summary) in enumerate(zip(points, tables.values(), strict=True)):
        summary = summary.copy()
        summary.insert(0, "point", index)
        for position, (key, value) in enumerate(zip(keys, point, strict=True)):
            summary.insert(1 + position, key, str(value))
        frames.append(summary)
    return pd.concat(frames, ignore_index=True)


SWEEP_SUMMARY_METRICS = ("idle_gpu_hours", "idle_cost_usd")


def point_summary(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per grid point and site, in grid order: the mean of each of SWEEP_SUMMARY_METRICS
    across replications with its 95% interval (METRIC_mean, METRIC_ci95_low/high)."""
    from dcsim.experiments.statistics import describe

    rows = []
    for point, group in table.groupby([*keys, "site"], sort=False):
        row = {**dict(zip([*keys, "site"], point, strict=True)), "n": len(group)}
        for metric in SWEEP_SUMMARY_METRICS:
            _, mean, _, low, high, _, _ = describe(group[metric].to_numpy(dtype=float))
            row |= {f"{metric}_mean": mean, f"{metric}_ci95_low": low,
                    f"{metric}_ci95_high": high}  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)
