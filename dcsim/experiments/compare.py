"""What-ifs against a base, with common random numbers.

Replication *i* of the base and of every variant draws the same numbers from
the same named streams, so the per-replication difference removes the noise
the variants share; its Student-t interval says whether a change is
distinguishable from zero. Comparing a scenario with itself gives exactly zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcsim.experiments.results import RunResult
from dcsim.experiments.runner import run
from dcsim.experiments.statistics import describe
from dcsim.input.spec import Scenario
from dcsim.model.records import SiteRecord

KPIS = SiteRecord.kpis()
COMPARE_COLUMNS = (
    "variant",
    "site",
    "metric",
    "n",
    "base_mean",
    "variant_mean",
    "diff_mean",
    "diff_ci95_low",
    "diff_ci95_high",
    "distinguishable",
)


@dataclass
class Comparison:
    table: pd.DataFrame  # COMPARE_COLUMNS
    base: RunResult
    variants: dict[str, RunResult]


def paired(
    base: pd.DataFrame, other: pd.DataFrame, variant: str, kpis: tuple[str, ...] = KPIS
) -> list[tuple[object, ...]]:
    """Rows of paired differences, site by site and KPI by KPI."""
    merged = base.merge(other, on=["replication", "site"], suffixes=("_base", "_var"))
    rows: list[tuple[object, ...]] = []
    for site, group in merged.groupby("site", sort=False):
        for kpi in kpis:
            a = group[f"{kpi}_base"].to_numpy(dtype=float)
            b = group[f"{kpi}_var"].to_numpy(dtype=float)
            keep = ~(np.isnan(a) | np.isnan(b))
            a, b = a[keep], b[keep]
            n, diff, _, low, high, _, _ = describe(b - a)
            if n > 1 and np.all(b - a == 0):
                low = high = 0.0
            distinguishable = bool(n > 1 and (low > 0 or high < 0))
            rows.append(
                (
                    variant,
                    site,
                    kpi,
                    n,
                    float(a.mean()) if n else np.nan,
                    float(b.mean()) if n else np.nan,
                    diff,
                    low,
                    high,
                    distinguishable,
                )
            )
    return rows


def compare(
    base: Scenario,
    variants: dict[str, Scenario],
    *,
    years: float | None = None,
    replications: int = 10,
    seed: int | None = None,
    workers: int | None = None,
    on_run: Callable[[str], None] | None = None,
) -> Comparison:
    # Every variant runs on the base's horizon and root seed unless told otherwise, so a
    # whole-file variant with a horizon or seed of its own is still compared like for like.
    settings = {
        "years": base.horizon_days / 365.25 if years is None else years,
        "replications": replications,
        "workers": workers,
        "seed": base.seed if seed is None else seed,
    }
    if on_run is not None:
        on_run("base")
    base_result = run(base, **settings)  # type: ignore[arg-type]
    results, rows = {}, []
    for name, spec in variants.items():
        if on_run is not None:
            on_run(name)
        results[name] = run(spec, **settings)  # type: ignore[arg-type]
        rows.extend(paired(base_result.summary, results[name].summary, name))
    return Comparison(pd.DataFrame(rows, columns=list(COMPARE_COLUMNS)), base_result, results)
