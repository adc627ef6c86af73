"""The queue funnel of each region: what became of the MW requested during the run.

SOURCES V2 (G4) is a funnel by capacity: of what enters the queue ~13-14% reaches
operation and ~78% withdraws. This table gives the same shares per region, pooled over
replications (a ratio of sums), for every request filed from the start date on — the
site's own and the background ones. A request neither withdrawn nor energized by the
horizon is still in the queue: recent cohorts are censored, as in the published funnels.
"""

from __future__ import annotations

import pandas as pd

from dcsim.input.spec import Scenario
from dcsim.model.events import Event

FUNNEL_COLUMNS = (
    "region", "replications", "requests_per_replication", "mw_requested_per_replication",
    "share_withdrawn_in_studies", "share_withdrawn_after_agreement", "share_energized",
    "share_still_in_queue",
)  # fmt: skip


def funnel(events: pd.DataFrame, scenario: Scenario, replications: int) -> pd.DataFrame:
    """One row per region that a site of ``scenario`` uses, shares by MW requested."""
    region_of = {site.name: site.interconnection.region for site in scenario.sites}
    wanted = [Event.REQUEST_SUBMITTED, Event.REQUEST_WITHDRAWN, Event.TRANCHE_ENERGIZED]
    rows = events[events["event"].isin([e.value for e in wanted])]
    key = ["replication", "object"]
    submitted = rows[(rows["event"] == Event.REQUEST_SUBMITTED) & (rows["time_days"] >= 0)]
    requests = submitted[[*key, "site", "quantity"]].rename(columns={"quantity": "mw"})
    requests["region"] = requests["site"].map(lambda s: region_of.get(s, s))
    withdrawn = rows[rows["event"] == Event.REQUEST_WITHDRAWN][[*key, "detail"]]
    energized = rows[rows["event"] == Event.TRANCHE_ENERGIZED][key].drop_duplicates()
    energized["energized"] = True
    merged = requests.merge(withdrawn, on=key, how="left").merge(energized, on=key, how="left")
    late = merged["detail"] == "after_agreement"
    early = merged["detail"].notna() & ~late
    done = merged["energized"].eq(True)
    mw = merged["mw"]
    parts = pd.DataFrame({
        "region": merged["region"], "mw": mw, "early": mw.where(early, 0.0),
        "late": mw.where(late, 0.0), "done": mw.where(done, 0.0),
    })  # fmt: skip
    out = []
    for region in dict.fromkeys(region_of.values()):
        mine = parts[parts["region"] == region]
        total = float(mine["mw"].sum())
        shares = [float(mine[c].sum()) / total if total else 0.0 for c in ("early", "late", "done")]
        out.append((region, replications, len(mine) / replications, total / replications,
                    *shares, 1.0 - sum(shares) if total else 0.0))  # fmt: skip
    return pd.DataFrame(out, columns=list(FUNNEL_COLUMNS))
