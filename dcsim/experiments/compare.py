"""What-ifs against a base, with common random numbers.

Replication *i* of the base and of every variant draws the same numbers from
the same named streams, so the per-replication difference removes the noise
the variants share; its Student-t interval says whether a change is
distinguishable from zero. Comparing a scenario with itself gives exactly zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.runner import Plan, check_counts, summaries
from dcsim.experiments.statistics import describe
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import Layer
from dcsim.model.records import SiteRecord

KPIS = SiteRecord.kpis()
BASE = "base"  # the base's key among the runs; a variant's is "variant NAME"
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


ROUNDING = 1e-12  # relative: sums of the same terms in another order differ by less


def no_difference(table: pd.DataFrame) -> pd.Series:
    """Rows of compare.csv whose metric the variant left the same in every replication."""
    columns = ["diff_mean", "diff_ci95_low", "diff_ci95_high"]
    return (table[columns].fillna(0) == 0).all(axis=1)


def unchanged(table: pd.DataFrame) -> pd.Series:
    """Rows of compare.csv in a (variant, site) that the variant left exactly as it was:
    every metric of ``table`` the same in every replication (a site the lever cannot reach)."""
    same = no_difference(table)
    return same.groupby([table["variant"], table["site"]], sort=False).transform("all")


@dataclass
class Comparison:
    table: pd.DataFrame  # COMPARE_COLUMNS
    summaries: dict[str, pd.DataFrame]  # the base's ("base") and each variant's ("variant NAME")


def paired(
    base: pd.DataFrame, other: pd.DataFrame, variant: str, kpis: Sequence[str] = KPIS
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
            # A difference in the last bits of a sum is no difference (no star on 0.00 yr).
            change = np.where(np.abs(b - a) <= ROUNDING * np.maximum(np.abs(a), np.abs(b)),
                              0.0, b - a)  # fmt: skip
            n, diff, _, low, high, _, _ = describe(change)
            if n > 1 and np.all(change == 0):
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
    plan: Plan | None = None,
) -> Comparison:
    """Every variant against ``base``; the base and all variants run as one batch of tasks
    (``plan``: where, and what an interrupted run already finished)."""
    check_counts(replications, years, workers)
    _check_shared_sites(base, variants)
    # Every variant runs on the base's horizon and root seed unless told otherwise, so a
    # whole-file variant with a horizon or seed of its own is still compared like for like.
    years = base.horizon_days / 365.25 if years is None else years
    seed = base.seed if seed is None else seed
    specs = {BASE: base, **{f"variant {name}": spec for name, spec in variants.items()}}
    runs = {key: (with_run_settings(spec, years=years, seed=seed), frozenset[Layer]())
            for key, spec in specs.items()}  # fmt: skip
    tables = summaries(runs, replications, plan or Plan(workers=workers))
    before = _with_waiting(tables[BASE])
    rows = []
    for name in variants:
        after = _with_waiting(tables[f"variant {name}"])
        rows.extend(paired(before, after, name, METRICS))
        if before["site"].nunique() > 1:
            rows.extend(paired(_all_sites(before), _all_sites(after), name, ADDITIVE))
    table = pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))
    order = {name: i for i, name in enumerate(ranking(table)["variant"])}
    table = table.sort_values("variant", key=lambda v: v.map(order), kind="stable")
    return Comparison(table.reset_index(drop=True), tables)


ALL_SITES = "(all sites)"
# GPU-hours delivered but not running: idle on a site or in transit between sites. What
# a lever buys back; with no pooled lot routed it is idle_gpu_hours.
WAITING = "waiting_gpu_hours"
METRICS = (*KPIS, WAITING)
# Figures that add up across sites (dates do not).
ADDITIVE = tuple(k for k in METRICS if not k.endswith("_days") and k != "gpus_idle_at_horizon")


def _with_waiting(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.assign(**{WAITING: summary["idle_gpu_hours"] + summary["gpu_hours_in_transit"]})


def _all_sites(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per replication: the sites' additive figures summed."""
    frame = summary.groupby("replication", as_index=False)[list(ADDITIVE)].sum()
    frame.insert(1, "site", ALL_SITES)
    return frame


RANKING_COLUMNS = ("rank", "variant", "site", "saving_waiting_gpu_hours", "saving_ci95_low",
                   "saving_ci95_high", "saving_lost_value_usd", "saving_value_ci95_low",
                   "saving_value_ci95_high")  # fmt: skip


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Variants by GPU-hours saved idle or in transit (WAITING) against the base (all sites,
    or the one site), most first, with the paired 95% intervals, and the lost value saved
    beside."""
    sites = table["site"].unique()
    site = ALL_SITES if ALL_SITES in sites else sites[0]
    rows = []
    for variant, group in table[table["site"] == site].groupby("variant", sort=False):
        idle = group[group["metric"] == WAITING].iloc[0]
        value = group[group["metric"] == "lost_value_usd"].iloc[0]
        rows.append((variant, site, -idle["diff_mean"], -idle["diff_ci95_high"],
                     -idle["diff_ci95_low"], -value["diff_mean"], -value["diff_ci95_high"],
                     -value["diff_ci95_low"]))  # fmt: skip
    rows.sort(key=lambda row: -row[2])
    return pd.DataFrame([(i + 1, *row) for i, row in enumerate(rows)],
                        columns=list(RANKING_COLUMNS))  # fmt: skip


def _check_shared_sites(base: Scenario, variants: dict[str, Scenario]) -> None:
    """A variant is compared with the base site by site: one with none of the base's sites
    has nothing to compare (it is refused before anything runs)."""
    ours = [site.name for site in base.sites]
    for name, spec in variants.items():
        theirs = [site.name for site in spec.sites]
        if not set(ours) & set(theirs):
            raise DcsimError(
                f"variant {name!r}: none of its sites ({', '.join(theirs)}) is one of the"
                f" base's ({', '.join(ours)}); a variant is compared with the base site by"
                " site. Give it a file with the base's sites (a copy of the base's file,"
                " changed), or --set changes of the base's own keys."
            )
