#!/usr/bin/env python3
"""Speed of dcsim, measured against a bare SimPy model run in the same process.

    python scripts/bench.py            # full benchmark (several minutes)
    python scripts/bench.py --quick    # a smaller run, as the test suite does
    python scripts/bench.py --against 5da4376   # section 4 also runs that commit's dcsim

1. The region queue configured as M/M/c beside a bare SimPy M/M/c written here:
   customers per second of each, and their ratio (target: dcsim >= 1.0).
2. One ten-year replication of each bundled site: wall time and events.
3. How the cost grows with the horizon and with the background request rate:
   seconds per thousand events should stay flat (cost follows events, not
   calendar time).
4. ``dcsim run`` of the portfolio end to end, all outputs written: wall time
   and peak memory of the whole process tree, parallel efficiency on two
   workers (beside the machine's own for the same simulations in two bare
   processes: its ceiling), the share of the wall time spent outside the
   replications (start-up, and finishing the files after the last one), the peak
   against the number of replications, and, with --against COMMIT, the speed-up
   over that commit's dcsim run back to back. The timings are taken in three
   rounds and the median reported, with the range (one round with --quick). Each
   command runs with Python's compiled-module cache on, as an installed dcsim does.
5. Where a replication of that run goes, in one process: the share of the simulation
   and of making its tables and CSV text, and the SimPy events it takes.
Ratios, not absolute seconds, are what to compare between machines.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from dcsim.experiments.tasks import collector_off
from dcsim.input.distributions import Exponential, Fixed
from dcsim.input.load import load
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Region, StudyPhase
from dcsim.model.event_log import Recorder
from dcsim.model.serial_queue import SerialQueue
from dcsim.model.simulation import simulate
from dcsim.native import is_compiled
from dcsim.output.export import Layout
from dcsim.output.streamed_run import packed, replication_task

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "sites"


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
    recorder = Recorder()
    queue = SerialQueue(env, region, recorder, np.random.default_rng(seed))
    env.run(until=until)
    recorder.collect(until)  # the rows of every request's studies, as a run logs them
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


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
    except OSError:
        return 0


def _tree_rss_kb(pid: int) -> int:
    """Memory of ``pid`` and every process below it, in KB (Linux /proc): the proportional
    set size, which counts a page the forked workers share with dcsim once, not once in
    each (their summed RSS would count numpy's and pandas' pages three times)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        total += _pss_kb(current)
    return total


def dcsim_run(args: list[str], pythonpath: Path | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak MB of the process tree, seconds outside the replications:
    start-up before them, finishing the files after) of ``python -m dcsim run ARGS`` into
    a fresh folder."""
    out = Path(tempfile.mkdtemp(prefix="dcsim-bench-"))
    env = dict(os.environ)
    # dcsim as installed: Python keeps its compiled modules (a sandbox that turns that off
    # would add the compiling of every module, ~0.5 s, to every run, old or new).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    cwd = pythonpath or ROOT
    command = [sys.executable, "-m", "dcsim", "run", *args, "--out", str(out / "o"), "--quiet"]
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"bench: {' '.join(command)} failed ({proc.returncode})")
        info = json.loads((out / "o" / "run.json").read_text())
        finishing = max(0.0, wall - float(info.get("simulation_time_s", wall)))
        return wall, peak / 1024, finishing
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _simulate_all(scenario: Any, replications: range) -> None:
    for replication in replications:
        simulate(scenario, replication)


def machine_efficiency(years: str, reps: int) -> float:
    """The parallel efficiency this machine gives the same simulations with nothing else:
    ``reps`` replications in this process, then split between two forked processes (no
    runner, no output). dcsim's own efficiency is to be read against it."""
    import multiprocessing

    scenario = with_run_settings(load(SITES / "portfolio.toml"), years=float(years), seed=None)
    simulate(scenario, 0)  # warm
    one, _ = timed(lambda: _simulate_all(scenario, range(reps)))
    context = multiprocessing.get_context("fork")
    halves = [context.Process(target=_simulate_all, args=(scenario, range(k, reps, 2)))
              for k in (0, 1)]  # fmt: skip

    def both() -> None:
        for process in halves:
            process.start()
        for process in halves:
            process.join()

    two, _ = timed(both)
    return one / (2 * two)


def replication_shares(quick: bool) -> None:
    """Section 5: one replication as a ``dcsim run`` worker makes it (simulation, then its
    tables and CSV text), timed in this process once the worker's store of evaluated
    states is warm, and the SimPy events it takes."""
    years, warm, timed_reps = (2.0, 2, 4) if quick else (10.0, 20, 30)
    scenario = with_run_settings(load(SITES / "portfolio.toml"), years=years, seed=None)
    layout = Layout()
    for replication in range(warm):
        replication_task((scenario, replication, layout, None))
    # One pass, each replication timed in its two parts, as a pool worker runs a task
    # (the collector off, what lives on frozen): timing the simulations again in a second
    # pass would find their states in the store already.
    simulation = packing = 0.0
    for replication in range(warm, warm + timed_reps):
        with collector_off():
            seconds, result = timed(lambda: simulate(scenario, replication))  # noqa: B023
            simulation += seconds
            seconds, _ = timed(lambda: packed(scenario, result, layout))  # noqa: B023
            packing += seconds
    whole = simulation + packing
    steps = 0
    step = simpy.Environment.step

    def counted(env: simpy.Environment) -> None:
        nonlocal steps
        steps += 1
        step(env)

    simpy.Environment.step = counted  # type: ignore[method-assign,assignment]
    try:
        simulate(scenario, warm)
    finally:
        simpy.Environment.step = step  # type: ignore[method-assign]
    print(f"\n5. One portfolio replication ({years:g} years) as a dcsim run worker makes it,")
    print(f"   {timed_reps} replications after {warm} (the store of evaluated states warm)")
    print(f"   simulation              {simulation / whole:6.0%}")
    print(f"   tables and CSV text     {1 - simulation / whole:6.0%}")
    print(f"   SimPy events a replication: {steps:,}")


def _median_and_range(values: list[float]) -> str:
    ordered = sorted(values)
    if len(ordered) == 1:
        return f"{ordered[0]:.2f}"
    return (f"{statistics.median(ordered):.2f} (median of {len(ordered)} back-to-back runs,"
            f" range {ordered[0]:.2f}-{ordered[-1]:.2f})")  # fmt: skip


def end_to_end(quick: bool, against: str | None) -> None:
    reps = 4 if quick else 100
    years = "2" if quick else "10"
    # This machine's speed drifts by 10-30% over minutes: one pair of runs can land
    # either side of a target. So each figure is taken in several rounds, the runs it
    # compares back to back within a round, and the median of the rounds is reported.
    rounds = 1 if quick else 3

    def target(text: str, opening: str = "; ") -> str:
        # A quick run is too small for the targets (start-up is most of it): not shown.
        if quick:
            return ""
        return f"{opening}target {text}" + (")" if opening.endswith("(") else "")

    run = ["sites/portfolio.toml", "--years", years, "--reps", str(reps)]
    print(f"\n4. dcsim run {' '.join(run)}, all outputs written")
    tree = None if against is None else Path(tempfile.mkdtemp(prefix="dcsim-against-"))
    try:
        if tree is not None and against is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree),
                            against], check=True, capture_output=True)  # fmt: skip
        dcsim_run(["sites/portfolio.toml", "--years", "1", "--reps", "1"])  # compiles modules
        if tree is not None:
            dcsim_run(["sites/portfolio.toml", "--years", "1", "--reps", "1"], pythonpath=tree)
        efficiencies, outside, speedups = [], [], []
        for _ in range(rounds):
            one, peak_one, _ = dcsim_run([*run, "--workers", "1"])
            two, peak_two, finishing = dcsim_run([*run, "--workers", "2"])
            efficiencies.append(one / (2 * two))
            outside.append(finishing / two)
            print(f"   --workers 1   {one:7.1f} s wall  {peak_one:6.0f} MB peak")
            print(f"   --workers 2   {two:7.1f} s wall  {peak_two:6.0f} MB peak")
            if tree is not None:
                old, old_peak, _ = dcsim_run([*run, "--workers", "2"], pythonpath=tree)
                speedups.append(old / two)
                print(f"   commit {against} --workers 2: {old:7.1f} s wall {old_peak:6.0f} MB"
                      f" peak ({old / two:.1f}x)")  # fmt: skip
    finally:
        if tree is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
            shutil.rmtree(tree, ignore_errors=True)
    print(
        "   outside the replications (start-up, and finishing the files) on 2 workers:"
        f" {statistics.median(outside):.0%} of the wall time{target('<= 20%')}"
    )
    print(
        f"   parallel efficiency on 2 workers = {_median_and_range(efficiencies)}{target('>= 0.9')}"
    )
    bare = machine_efficiency(years, reps // 2)
    print(f"   (the machine's own: {bare:.2f}, {reps // 2} bare simulations, 1 then 2 processes)")
    if speedups:
        print(f"   speed-up over commit {against} = {_median_and_range(speedups)}{target('>= 7')}")
    few, many = (2, 8) if quick else (20, 400)
    peaks = {}
    for count in (few, many):
        _, peaks[count], _ = dcsim_run(["sites/portfolio.toml", "--years", years, "--reps",
                                        str(count), "--workers", "2"])  # fmt: skip
    print(
        f"   peak memory --reps {many} / --reps {few} = {peaks[many] / peaks[few]:.2f}"
        f" ({peaks[many]:.0f} MB / {peaks[few]:.0f} MB{target('<= 1.2, under 400 MB')})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument(
        "--against", metavar="COMMIT", help="also time this commit's dcsim run, back to back"
    )
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    repeats = 3 if args.quick else 7

    modules = (
        "compiled (dcsim compile)" if is_compiled() else "pure Python (DCSIM_PURE, or no compile)"
    )
    print(f"dcsim's model modules: {modules}; every dcsim run below uses the same\n")
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
        " target >= 1.0)"
    )

    print("\n2. One ten-year replication of each bundled site")
    for path in sorted(SITES.glob("*.toml")):
        scenario = load(path, [("scenario.horizon", "10 years")])
        seconds, result = timed(functools.partial(simulate, scenario, 0))
        print(
            f"   {path.name:24s} {seconds:7.3f} s  {len(result.events):7d} events"
            f"  {1e3 * seconds / max(1, len(result.events)):.3f} ms/event"
        )

    base = load(SITES / "ashburn.toml")
    print("\n3. Cost against horizon and against background request rate (ashburn)")
    print("   horizon   seconds    events   ms per event")
    for years in (5, 10, 20, 40):
        scenario = dataclasses.replace(base, horizon_days=years * 365.25)
        seconds, result = timed(functools.partial(simulate, scenario, 0))
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
        seconds, result = timed(functools.partial(simulate, scenario, 0))
        print(
            f"   {factor:7d}   {seconds:7.3f}  {len(result.events):8d}"
            f"   {1e3 * seconds / len(result.events):.4f}"
        )
    end_to_end(args.quick, args.against)
    replication_shares(args.quick)


if __name__ == "__main__":
    main()
