"""Lead times of a GPU supply of the bundled catalog by order date (the catalog's comment).

    python scripts/chip_check.py [--supply cowos] [--reps 20]

Runs the supply alone from a start date of 2025-01-01 and orders 1,000 GPUs on each date;
prints the mean lead time in weeks with its 5-95% range across replications.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import simpy

import dcsim
from dcsim.input.spec import GpuSupply
from dcsim.model.chips import ChipSupply, supply_stream
from dcsim.model.streams import Streams

START = dt.date(2025, 1, 1)
DATES = ("2024-04-01", "2025-01-01", "2025-07-01", "2026-01-01", "2026-06-01", "2027-06-01",
         "2029-01-01")  # fmt: skip


def lead_weeks(spec: GpuSupply, when: dt.date, replication: int) -> float:
    """Lead time of 1,000 GPUs ordered on ``when`` (which may fall in the warm-up)."""
    # Open the supply at the start of its warm-up, as a run would, and order from there on.
    env = simpy.Environment(initial_time=-spec.warm_up)
    streams = Streams(1, replication)
    opened = dataclasses.replace(spec, warm_up=0.0)
    supply = ChipSupply(env, opened, streams(supply_stream(spec.name)), START)
    done = env.event()

    def order() -> simpy.events.ProcessGenerator:
        yield env.timeout(float((when - START).days) - env.now)
        done.succeed((yield env.process(supply.order(1000, streams("probe")))))

    env.process(order())
    env.run(until=done)
    assert done.value is not None
    return float(done.value) / 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supply", default="cowos")
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    scenario = dcsim.load(Path(__file__).resolve().parent.parent / "sites" / "portfolio.toml")
    spec = next(s for s in scenario.gpu_supplies if s.name == args.supply)
    for text in DATES:
        when = dt.date.fromisoformat(text)
        weeks = [lead_weeks(spec, when, r) for r in range(args.reps)]
        low, high = np.percentile(weeks, [5, 95])
        print(f"{text}: {np.mean(weeks):5.1f} wk ({low:.1f}-{high:.1f})")


if __name__ == "__main__":
    main()
