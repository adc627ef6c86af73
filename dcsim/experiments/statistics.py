"""Replications summarised: means with Student-t intervals, and layer shares.

One place for the numbers every table and chart shows, so that the printed
table and the report's headline never compute the same share two ways.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dcsim.model.layers import LAYERS
from dcsim.model.records import SiteRecord

PERCENTILES = (10, 50, 80, 90)
STATS_COLUMNS = ("site", "metric", "n", "mean", "std", "ci95_low", "ci95_high", "min", "max",
                 *(f"p{q}" for q in PERCENTILES))  # fmt: skip
SHOWN_SHARE = 0.005  # layer shares below half a percent are left out of "why" lines


def summary_stats(summary: pd.DataFrame) -> pd.DataFrame:
    """Per site and metric: n, mean, std, 95% CI of the mean (Student t), min, max, and
    the P10, P50, P80 and P90 across replications.

    Missing values (a date never reached within the horizon) are left out of the
    mean and the interval; ``n`` says how many replications had a value. For the
    percentiles they count as later than every value reached (see
    :func:`percentiles`).
    """
    rows = []
    for site, group in summary.groupby("site", sort=False):
        for metric in SiteRecord.metrics():
            values = group[metric].to_numpy(dtype=float)
            reached = values[~np.isnan(values)]
            rows.append((site, metric, *describe(reached), *percentiles(values)))
    return pd.DataFrame(rows, columns=list(STATS_COLUMNS)).astype({"n": "int64"})


def percentiles(values: np.ndarray, qs: tuple[int, ...] = PERCENTILES) -> tuple[float, ...]:
    """numpy's percentiles (linear), a missing value counting as later than every other.

    A value missing means not reached within the horizon: it is placed above
    every reached one, and a percentile that falls among (or next to) those is
    empty (NaN), not a number.
    """
    if len(values) == 0:
        return tuple(math.nan for _ in qs)
    censored = np.where(np.isnan(values), np.inf, values)
    with np.errstate(invalid="ignore"):  # inf - inf between two censored values
        found = np.percentile(censored, qs)
    return tuple(float(v) if np.isfinite(v) else math.nan for v in found)


def describe(values: np.ndarray) -> tuple[int, float, float, float, float, float, float]:
    n = len(values)
    if n == 0:
        return 0, *([math.nan] * 6)  # type: ignore[return-value]
    mean = float(values.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan, mean, mean
    std = float(values.std(ddof=1))
    half = _t_quantile(n - 1, 0.975) * std / math.sqrt(n)
    return n, mean, std, mean - half, mean + half, float(values.min()), float(values.max())


def _t_quantile(df: int, p: float) -> float:
    from scipy.special import stdtrit  # see prepare; scipy.stats costs ~1 s to import

    return float(stdtrit(df, p))


def prepare() -> None:
    """Import what the statistics need, SciPy's t quantile (~0.1 s, most of it NumPy's
    f2py that SciPy pulls in). An experiment hands this to tasks.execute as its
    ``meanwhile``: on a pool or a cluster it runs while the workers simulate, not before
    the first task can go to them; run in this process, before the first task."""
    import scipy.special  # noqa: F401


def layer_shares(
    stats: pd.DataFrame, site: str, cutoff: float = SHOWN_SHARE
) -> list[tuple[str, float]]:
    """(layer, share of the site's mean idle GPU-hours), largest first, at least ``cutoff``."""
    means = stats[stats["site"] == site].set_index("metric")["mean"]
    total = float(means["idle_gpu_hours"])
    if not total > 0:
        return []
    shares = [(layer.name, float(means[layer.idle_column]) / total) for layer in LAYERS]
    return sorted((s for s in shares if s[1] >= cutoff), key=lambda s: -s[1])


def why(stats: pd.DataFrame, site: str) -> str:
    """'grid 80%, building 20%': the binding layers of a site's idle GPU-hours."""
    return ", ".join(f"{layer} {share:.0%}" for layer, share in layer_shares(stats, site)) or "-"


SCURVE_METRICS = {"first_power_days": "first_power", "all_running_days": "all_running"}
SCURVE_COLUMNS = ("site", "metric", "days", "date", "share_reached")


def scurves(summary: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Per site, for first power and all-running: the share of replications reaching each date.

    One row per replication that reached it, in date order; ``share_reached`` is
    the share of all replications (those never reaching it included) that had
    by then, so a curve that stops below 1 says how many never did.
    """
    rows: list[tuple[object, ...]] = []
    for site, group in summary.groupby("site", sort=False):
        total = len(group)
        for column, metric in SCURVE_METRICS.items():
            reached = np.sort(group[column].dropna().to_numpy(dtype=float))
            for rank, days in enumerate(reached, start=1):
                rows.append((site, metric, days, start + pd.Timedelta(days=float(days)),
                             rank / total))  # fmt: skip
    return pd.DataFrame(rows, columns=list(SCURVE_COLUMNS))
