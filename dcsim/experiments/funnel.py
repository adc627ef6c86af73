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

import datetime as dt

import pandas as pd

from dcsim.input.spec import Scenario
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
FUNNEL_EVENTS = frozenset({Event.REQUEST_SUBMITTED, Event.REQUEST_WITHDRAWN,
                           Event.TRANCHE_ENERGIZED})  # fmt: skip


def funnel_parts(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Sums per region and filing year (PART_COLUMNS): what one replication adds to the
    funnel, so that a run need keep only these few rows, not its events."""
    fates = _fates(events, scenario)
    fates.insert(2, "requests", 1)
    sums = fates.groupby(["region", "year"], sort=True, as_index=False).sum()
    return sums[list(PART_COLUMNS)]


def funnel_table(parts: pd.DataFrame, scenario: Scenario, replications: int) -> pd.DataFrame:
    """The funnel from the replications' :func:`funnel_parts`, concatenated in order."""
    sums = parts.groupby(["region", "year"], sort=True, as_index=False).sum()
    out = []
    for region in dict.fromkeys(site.interconnection.region for site in scenario.sites):
        mine = sums[sums["region"] == region]
        out.append(_row(region, ALL, mine, replications))
        for year, cohort in mine.groupby("year", sort=True):
            out.append(_row(region, str(year), cohort, replications))
    return pd.DataFrame(out, columns=list(FUNNEL_COLUMNS))


def _fates(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per request filed from day 0: region, filing year, MW and the MW of each fate."""
    region_of = {site.name: site.interconnection.region for site in scenario.sites}
    rows = events[events["event"].isin([e.value for e in FUNNEL_EVENTS])]
    key = ["replication", "object"]
    filed = rows["time_days"]
    during = (filed >= 0) & (filed < scenario.horizon_days)
    submitted = rows[(rows["event"] == Event.REQUEST_SUBMITTED) & during]
    requests = submitted[[*key, "site", "quantity", "time_days"]]
    withdrawn = rows[rows["event"] == Event.REQUEST_WITHDRAWN][[*key, "detail"]]
    energized = rows[rows["event"] == Event.TRANCHE_ENERGIZED][key].drop_duplicates()
    energized["energized"] = True
    merged = requests.merge(withdrawn, on=key, how="left").merge(energized, on=key, how="left")
    late = merged["detail"] == "after_agreement"
    early = merged["detail"].notna() & ~late
    mw = merged["quantity"]
    start = dt.datetime.combine(scenario.start_date, dt.time())
    filed = pd.Timestamp(start) + pd.to_timedelta(merged["time_days"], unit="D")
    return pd.DataFrame({
        "region": merged["site"].map(lambda s: region_of.get(s, s)),
        "year": filed.dt.year, "mw": mw, "early": mw.where(early, 0.0),
        "late": mw.where(late, 0.0), "done": mw.where(merged["energized"].eq(True), 0.0),
    })  # fmt: skip


def _row(region: str, cohort: str, mine: pd.DataFrame, replications: int) -> tuple[object, ...]:
    total = float(mine["mw"].sum())
    shares = [float(mine[c].sum()) / total if total else 0.0 for c in ("early", "late", "done")]
    still = 1.0 - sum(shares) if total else 0.0
    still = 0.0 if still < 1e-9 else still  # what float sums leave of a cohort that ended
    requests = int(mine["requests"].sum())
    return (region, cohort, replications, requests / replications, total / replications,
            *shares, still)  # fmt: skip
