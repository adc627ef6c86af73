"""After the run: a site's totals, integrated exactly between timeseries rows.

The state is constant between two rows, so every total is a sum over rows of
(value at the row) x (time to the next row, or to the horizon): idle GPU-hours
(split by the binding layer), their depreciation cost, GPU-hours of compute
delivered, the value those idle hours would have earned, and stranded power.

The value of an idle GPU-hour declines by the lot's model's ``value_decline``
a year from the scenario start: v(t) = v0 * (1 - d) ** (t / 365.25), whose
integral over a row is taken in closed form.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dcsim.model.capacity import Snapshot
from dcsim.model.layers import LAYERS

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class LotValue:
    per_hour_usd: float  # what one GPU-hour earns at the start date
    decline: float  # yearly fall


@dataclass(frozen=True)
class Totals:
    idle_gpu_hours: float
    idle_by_layer: tuple[float, ...]  # aligned with LAYERS
    idle_cost_usd: float
    gpu_hours_running: float
    lost_value_usd: float
    stranded_mwh: float
    stranded_no_gpus_mwh: float
    stranded_not_installed_mwh: float
    stranded_cooling_mwh: float
    onsite_mwh: float  # generated on site for the GPUs running
    transit_gpu_hours: float = 0.0  # pooled GPUs delivered to the fleet, not yet on a site


def value_hours(decline: float, start: float, end: float) -> float:
    """Hours from day ``start`` to ``end``, each weighted by (1 - decline) ** years."""
    if decline == 0.0:
        return (end - start) * HOURS_PER_DAY
    rate = math.log1p(-decline) / DAYS_PER_YEAR  # per day, negative
    return HOURS_PER_DAY * (math.exp(rate * end) - math.exp(rate * start)) / rate


def integrate(rows: Sequence[Snapshot], binding: Sequence[int], horizon: float,
              lots: Sequence[LotValue]) -> Totals:  # fmt: skip
    by_layer = [0.0] * len(LAYERS)
    idle = cost = running = lost = stranded = not_installed = cooling = onsite = transit = 0.0
    priced = [(index, lot) for index, lot in enumerate(lots) if lot.per_hour_usd]
    for row, end, layer in zip(rows, _ends(rows, horizon), binding, strict=True):
        (start, _, _, _, gpus_running, gpus_idle, _, _, idle_cost_per_day, _, _, idle_by_lot,
         stranded_mw, not_installed_mw, cooling_mw, onsite_mw, in_transit, _) = row  # fmt: skip
        days = end - start
        if days <= 0.0:
            continue
        hours = days * HOURS_PER_DAY
        running += gpus_running * hours
        stranded += stranded_mw * hours
        not_installed += not_installed_mw * hours
        cooling += cooling_mw * hours
        onsite += onsite_mw * hours
        transit += in_transit * hours
        if gpus_idle == 0 and in_transit == 0:
            continue
        if gpus_idle:
            idle += gpus_idle * hours
            by_layer[layer] += gpus_idle * hours
        cost += idle_cost_per_day * days
        for index, lot in priced:
            count = idle_by_lot[index]
            if count:
                lost += count * lot.per_hour_usd * value_hours(lot.decline, start, end)
    return Totals(idle, tuple(by_layer), cost, running, lost, stranded,
                  max(0.0, stranded - not_installed - cooling), not_installed, cooling,
                  onsite, transit)  # fmt: skip


def _ends(rows: Sequence[Snapshot], horizon: float) -> list[float]:
    """Where each row's interval ends: the next row's time, or the horizon (whichever is
    first)."""
    if not rows:
        return []
    ends = [row.time_days for row in rows[1:]]
    ends.append(horizon)
    return [end if end < horizon else horizon for end in ends]


def by_year(rows: Sequence[Snapshot], binding: Sequence[int], horizon: float,
            start: dt.date) -> list[tuple[int, tuple[float, ...], float, float]]:  # fmt: skip
    """Per calendar year: idle GPU-hours by binding layer, stranded MWh, and the part of it
    waiting for GPUs that have not arrived (chips).

    Each row's interval is split at the 1 January boundaries it spans, so the
    years add up exactly to the totals of :func:`integrate`.
    """
    origin = dt.datetime.combine(start, dt.time())
    end_year = (origin + dt.timedelta(days=horizon)).year
    bounds = [((dt.datetime(y, 1, 1) - origin).total_seconds() / 86400.0, y)
              for y in range(start.year, end_year + 1)]  # fmt: skip
    bounds = [(day, y) for day, y in bounds if day < horizon or y == start.year]
    years: dict[int, tuple[list[float], list[float]]] = {
        y: ([0.0] * len(LAYERS), [0.0, 0.0]) for _, y in bounds
    }
    spans = list(zip(bounds, [*bounds[1:], (math.inf, 0)], strict=True))
    starts = [year_start for year_start, _ in bounds]
    for row, end, layer in zip(rows, _ends(rows, horizon), binding, strict=True):
        begins, gpus_idle = row.time_days, row.gpus_idle
        stranded_mw = row.stranded_mw
        waiting_mw = stranded_mw - row.stranded_not_installed_mw - row.stranded_cooling_mw
        # Only the years the row's interval can reach (those before give hi <= lo).
        for index in range(max(0, bisect.bisect_right(starts, begins) - 1), len(spans)):
            (year_start, year), (year_end, _) = spans[index]
            if year_start >= end:
                break
            lo = begins if begins > year_start else year_start
            hi = end if end < year_end else year_end
            if hi <= lo:
                continue
            hours = (hi - lo) * HOURS_PER_DAY
            idle, stranded = years[year]
            if gpus_idle:
                idle[layer] += gpus_idle * hours
            stranded[0] += stranded_mw * hours
            stranded[1] += waiting_mw * hours
    return [(y, tuple(idle), stranded[0], stranded[1]) for y, (idle, stranded) in years.items()]
