#!/usr/bin/env python3
"""The figures quoted in sites/catalog/regions.toml, rerun: each bundled site's wait, and
how it answers more demand in its region.

    python scripts/queue_check.py --reps 40 [--sites ashburn memphis] [--more 0.2]

For every bundled site: request to first energized tranche (5th / 50th / 95th
percentile, years), the site's median wait for a study slot and for an upgrade crew
(days), and the same request to energization with the region's background demand
raised by ``--more`` (default 20%), with common random numbers: the difference of
medians and a paired 95% interval of the mean difference. Also the region's funnel
(shares of requested MW withdrawn and energized within the horizon).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

import dcsim

ROOT = Path(__file__).resolve().parent.parent
SITES = ("ashburn", "abilene", "memphis", "columbus", "santa_clara")


def years(result: dcsim.RunResult) -> np.ndarray:
    return result.summary["request_to_energization_days"].to_numpy() / 365.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--more", type=float, default=0.2, help="extra background demand")
    parser.add_argument("--sites", nargs="*", default=list(SITES))
    args = parser.parse_args()
    for name in args.sites:
        spec = dcsim.load(ROOT / "sites" / f"{name}.toml")
        region = spec.sites[0].region
        rate = next(r for r in spec.regions if r.name == region).background_rate * 365.25
        base = dcsim.run(spec, replications=args.reps, workers=args.workers)
        more = dcsim.override(spec, {f"regions.{region}.background_rate":
                                     f"{rate * (1 + args.more)} requests/year"})  # fmt: skip
        busier = dcsim.run(more, replications=args.reps, workers=args.workers)
        y, z = years(base), years(busier)
        p5, p50, p95 = np.nanpercentile(y, [5, 50, 95])
        diff = z - y
        diff = diff[~np.isnan(diff)]
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        s = base.summary
        f = base.funnel[base.funnel["cohort"] == "all"].set_index("region").loc[region]
        print(
            f"{name:12s} {region:9s} request->energized {p5:.1f} / {p50:.1f} / {p95:.1f} yr "
            f"(not reached {np.isnan(y).sum()}/{len(y)}); median waits: study slot "
            f"{np.nanmedian(s['queue_wait_days']):.0f} d, upgrade crew "
            f"{np.nanmedian(s['upgrade_wait_days']):.0f} d\n"
            f"{'':22s} +{args.more:.0%} demand: median {np.nanmedian(z):.2f} yr "
            f"(+{np.nanmedian(z) - p50:.2f}), mean paired diff {diff.mean():.2f} "
            f"± {half:.2f} yr; funnel: withdrawn {f.share_withdrawn_in_studies:.0%} in "
            f"studies + {f.share_withdrawn_after_agreement:.0%} after agreement, energized "
            f"{f.share_energized:.0%}, still queued {f.share_still_in_queue:.0%}"
        )


if __name__ == "__main__":
    main()
