"""The queue funnel of each region: what became of the MW requested during the run.

SOURCES V2 (G4) is a funnel by capacity: of what enters the queue ~13-14% reaches
operation and ~78% withdraws. This table gives the same shares per region, pooled over
replications (a ratio of sums), for every request filed from the start date on — the
site's own and the background ones — and again for each calendar year of filing (a
*cohort*, as the published funnels count them). A request neither withdrawn nor
energized by the horizon is still in the queue: recent cohorts are censored, as in the
published funnels, while the first years' cohorts of a long run are followed to their end.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dcsim.input.spec import Scenario
from dcsim.model.day_times import day_times
from dcsim.model.event_log import EVENTS, EventLog
from dcsim.model.events import Event

FUNNEL_COLUMNS = (
    "region", "cohort", "replications", "requests_per_replication",
    "mw_requested_per_replication", "share_withdrawn_in_studies",
    "share_withdrawn_after_agreement", "share_energized", "share_still_in_queue",
)  # fmt: skip
ALL = "all"  # the cohort of every request filed during the run


def funnel(events: pd.DataFrame, scenario: Scenario, replications: int) -> pd.DataFrame:
    """Rows per region that a site of ``scenario`` uses: cohort ``all`` first, then one per
    calendar year of filing; shares by MW requested."""
    return funnel_table(funnel_parts(events, scenario), scenario, replications)


PART_COLUMNS = ("region", "year", "requests", "mw", "early", "late", "done")
# A row of PART_COLUMNS: a region's requests filed in a year, their MW, and the MW withdrawn
# in studies (early), withdrawn after an agreement (late) and energized (done).
FunnelPart = tuple[str, int, int, float, float, float, float]
FUNNEL_EVENTS = frozenset({Event.REQUEST_SUBMITTED, Event.REQUEST_WITHDRAWN,
                           Event.TRANCHE_ENERGIZED})  # fmt: skip


def funnel_parts(events: pd.DataFrame, scenario: Scenario) -> list[FunnelPart]:
    """Sums per region and filing year (rows of PART_COLUMNS) of an events table: what its
    replications add to the funnel, so that a run need keep only these few rows."""
    rows = events[events["event"].isin([e.value for e in FUNNEL_EVENTS])]
    requests, _ = pd.factorize(rows["replication"].astype(str) + "/" + rows["object"].astype(str))
    sites, site_names = pd.factorize(rows["site"].astype(str))
    return _parts(
        rows["time_days"].to_numpy(dtype=np.float64), requests, sites,
        np.asarray(site_names, dtype=object),
        np.array([_KIND_OF_NAME[e] for e in rows["event"].astype(str)], dtype=np.int8),
        rows["quantity"].to_numpy(dtype=np.float64),
        (rows["detail"] == "after_agreement").to_numpy(dtype=bool), scenario,
    )  # fmt: skip


def log_funnel_parts(log: EventLog, scenario: Scenario) -> list[FunnelPart]:
    """:func:`funnel_parts` of one replication's log, read from its columns."""
    kinds = _KIND_OF_CODE[log.event]
    keep = np.flatnonzero(kinds >= 0)
    names = log.names.tolist()
    # Names are unique in a log: "after_agreement" has one code, if any row has it.
    late = names.index(_LATE) if _LATE in names else -1
    return _parts(log.time[keep], log.obj[keep], log.site[keep], log.names, kinds[keep],
                  log.quantity[keep], log.detail[keep] == late, scenario)  # fmt: skip


_LATE = "after_agreement"  # the detail of a withdrawal after the agreement


_SUBMITTED, _WITHDRAWN, _ENERGIZED = 0, 1, 2
_KIND = {Event.REQUEST_SUBMITTED: _SUBMITTED, Event.REQUEST_WITHDRAWN: _WITHDRAWN,
         Event.TRANCHE_ENERGIZED: _ENERGIZED}  # fmt: skip
_KIND_OF_NAME = {event.value: kind for event, kind in _KIND.items()}
_KIND_OF_CODE = np.array([_KIND.get(event, -1) for event in EVENTS], dtype=np.int8)


def _parts(
    days: np.ndarray, requests: np.ndarray, sites: np.ndarray, site_names: np.ndarray,
    kinds: np.ndarray, mw: np.ndarray, after_agreement: np.ndarray, scenario: Scenario,
) -> list[FunnelPart]:  # fmt: skip
    """The funnel's sums from its rows: each row's day, request (a code), site (a code
    into ``site_names``; a region's name for background rows), kind (_SUBMITTED...), MW
    and whether it withdrew after its agreement. Counted: requests filed from day 0 to
    the horizon."""
    count = int(requests.max()) + 1 if len(requests) else 0
    fate = np.zeros(count, dtype=np.int8)  # 0: neither, 1: withdrawn in studies, 2: after
    withdrew = kinds == _WITHDRAWN
    fate[requests[withdrew]] = np.where(after_agreement[withdrew], 2, 1)
    energized = np.zeros(count, dtype=bool)
    energized[requests[kinds == _ENERGIZED]] = True
    filed = (kinds == _SUBMITTED) & (days >= 0) & (days < scenario.horizon_days)
    request, size = requests[filed], mw[filed]
    region_of = {site.name: site.interconnection.region for site in scenario.sites}
    # The few site codes the filed rows use, each looked up once (not once a row).
    used, site_of_row = np.unique(sites[filed], return_inverse=True)
    used_regions = [region_of.get(name, name) for name in map(str, site_names[used].tolist())]
    regions = sorted(set(used_regions))
    number = {region: index for index, region in enumerate(regions)}
    region_number = np.array([number[region] for region in used_regions], dtype=np.int64)
    years = day_times(days[filed], scenario.start_date).astype("datetime64[Y]")
    # One integer key per (region, year), in the order of both; the sums are taken in row
    # order by bincount (a replication's funnel is a few dozen sums: pandas' groupby cost
    # more than the rest of this function).
    key = region_number[site_of_row.reshape(-1)] * _YEARS + years.astype(np.int64) + 1970
    keys, group = np.unique(key, return_inverse=True)
    group = group.reshape(-1)
    width = len(keys)

    def sums(values: np.ndarray) -> list[float]:
        return np.bincount(group, weights=values, minlength=width).tolist()  # type: ignore[no-any-return]

    requests_filed = np.bincount(group, minlength=width).tolist()
    return list(zip(
        [regions[k // _YEARS] for k in keys.tolist()], [k % _YEARS for k in keys.tolist()],
        requests_filed, sums(size), sums(np.where(fate[request] == 1, size, 0.0)),
        sums(np.where(fate[request] == 2, size, 0.0)),
        sums(np.where(energized[request], size, 0.0)), strict=True,
    ))  # fmt: skip


_YEARS = 100_000  # above any calendar year: region * _YEARS + year is one key
_PART_TYPES = {"year": "int64", "requests": "int64", "mw": "float64", "early": "float64",
               "late": "float64", "done": "float64"}  # fmt: skip


def funnel_table(
    parts: Sequence[FunnelPart], scenario: Scenario, replications: int
) -> pd.DataFrame:
    """The funnel from the replications' :func:`funnel_parts`, one after the other."""
    table = pd.DataFrame(list(parts), columns=list(PART_COLUMNS)).astype(_PART_TYPES)
    sums = table.groupby(["region", "year"], sort=True, as_index=False).sum()
    out = []
    for region in dict.fromkeys(site.interconnection.region for site in scenario.sites):
        mine = sums[sums["region"] == region]
        out.append(_row(region, ALL, mine, replications))
        for year, cohort in mine.groupby("year", sort=True):
            out.append(_row(region, str(year), cohort, replications))
    return pd.DataFrame(out, columns=list(FUNNEL_COLUMNS))


def _row(region: str, cohort: str, mine: pd.DataFrame, replications: int) -> tuple[object, ...]:
    total = float(mine["mw"].sum())
    shares = [float(mine[c].sum()) / total if total else 0.0 for c in ("early", "late", "done")]
    still = 1.0 - sum(shares) if total else 0.0
    still = 0.0 if still < 1e-9 else still  # what float sums leave of a cohort that ended
    requests = int(mine["requests"].sum())
    return (region, cohort, replications, requests / replications, total / replications,
            *shares, still)  # fmt: skip
