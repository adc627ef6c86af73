#!/usr/bin/env python3
"""Speed of dcsim, measured against a bare SimPy model run in the same process.

    python scripts/bench.py            # full benchmark (about a minute)
    python scripts/bench.py --quick    # a smaller run, as the test suite does

1. The region queue configured as M/M/c beside a bare SimPy M/M/c written here:
   customers per second of each, and their ratio (target: dcsim >= 0.5).
2. One ten-year replication of each bundled site: wall time and events.
3. How the cost grows with the horizon and with the background request rate:
   seconds per thousand events should stay flat (cost follows events, not
   calendar time).
Ratios, not absolute seconds, are what to compare between machines.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from dcsim.input.distributions import Exponential, Fixed
from dcsim.input.load import load
from dcsim.input.spec import Region, StudyPhase
from dcsim.model.events import Recorder
from dcsim.model.interconnection import SerialQueue
from dcsim.model.simulation import simulate

SITES = Path(__file__).resolve().parent.parent / "sites"


def bare_simpy_mmc(lam: float, mu: float, c: int, until: float, seed: int) -> int:
    """The textbook SimPy M/M/c: one process per customer. Returns customers arrived."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    arrived = 0

    def customer() -> Generator[simpy.Event, Any, None]:
        with servers.request() as req:
            yield req
            yield env.timeout(rng.exponential(1 / mu))

    def source() -> Generator[simpy.Event, Any, None]:
        nonlocal arrived
        while True:
            yield env.timeout(rng.exponential(1 / lam))
            arrived += 1
            env.process(customer())

    env.process(source())
    env.run(until=until)
    return arrived


def dcsim_mmc(lam: float, mu: float, c: int, until: float, seed: int) -> int:
    """dcsim's serial region queue with only background requests, configured as M/M/c."""
    region = Region(
        name="bench",
        label="bench",
        discipline="serial",
        study_engineers=c,
        cluster_window=365.0,
        phases=(StudyPhase("study", Exponential(1 / mu), 0.0),),
        agreement_time=Fixed(0.0),
        energization_time=Fixed(0.0),
        headroom_mw=float("inf"),
        network_upgrade_time=Fixed(0.0),
        background_rate=lam,
        background_size=Fixed(1.0),
    )
    env = simpy.Environment()
    queue = SerialQueue(env, region, Recorder(), np.random.default_rng(seed))
    env.run(until=until)
    return queue.arrivals


def rates(fns: list[Callable[..., int]], *args: Any, repeats: int) -> list[list[float]]:
    """Customers per second of each model in each repeat. Runs are interleaved so
    that both models see the same machine, and the collector is paused while
    timing, as timeit does."""
    per_repeat: list[list[float]] = [[] for _ in fns]
    for r in range(repeats):
        for index, fn in enumerate(fns):
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                customers = fn(*args, seed=r)
                per_repeat[index].append(customers / (time.perf_counter() - start))
            finally:
                gc.enable()
    return per_repeat


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    repeats = 3 if args.quick else 7

    lam, mu, c = 8.0, 1.0, 10  # per day: rho = 0.8
    until = 20000 * scale
    bare, ours = rates([bare_simpy_mmc, dcsim_mmc], lam, mu, c, until, repeats=repeats)
    # The ratio of each back-to-back pair, then their median: robust to the machine's drift.
    ratios = sorted(o / b for o, b in zip(ours, bare, strict=True))
    print("1. M/M/c queue (lambda 8/day, mu 1/day, c 10), customers per second (best run)")
    print(f"   bare SimPy   {max(bare):12,.0f}")
    print(f"   dcsim        {max(ours):12,.0f}")
    print(
        f"   ratio dcsim / bare SimPy = {statistics.median(ratios):.2f} (median of"
        f" {len(ratios)} back-to-back pairs, range {ratios[0]:.2f}-{ratios[-1]:.2f};"
        " target >= 0.50)"
    )

    print("\n2. One ten-year replication of each bundled site")
    for path in sorted(SITES.glob("*.toml")):
        scenario = load(path, [("scenario.horizon", "10 years")])
        seconds, result = timed(lambda s=scenario: simulate(s, 0))
        print(
            f"   {path.name:24s} {seconds:7.3f} s  {len(result.events):7d} events"
            f"  {1e3 * seconds / max(1, len(result.events)):.3f} ms/event"
        )

    base = load(SITES / "ashburn.toml")
    print("\n3. Cost against horizon and against background request rate (ashburn)")
    print("   horizon   seconds    events   ms per event")
    for years in (5, 10, 20, 40):
        scenario = dataclasses.replace(base, horizon_days=years * 365.25)
        seconds, result = timed(lambda s=scenario: simulate(s, 0))
        print(
            f"   {years:3d} yr   {seconds:7.3f}  {len(result.events):8d}"
            f"   {1e3 * seconds / len(result.events):.4f}"
        )
    print("   bg rate x   seconds    events   ms per event")
    region = base.region(base.sites[0].region)
    for factor in (1, 4, 16):
        faster = dataclasses.replace(region, background_rate=region.background_rate * factor)
        regions = tuple(faster if r.name == region.name else r for r in base.regions)
        scenario = dataclasses.replace(base, regions=regions)
        seconds, result = timed(lambda s=scenario: simulate(s, 0))
        print(
            f"   {factor:7d}   {seconds:7.3f}  {len(result.events):8d}"
            f"   {1e3 * seconds / len(result.events):.4f}"
        )


if __name__ == "__main__":
    main()
