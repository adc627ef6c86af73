"""The interconnection queue against queueing theory.

Each check runs independent replications (``Streams(SEED, r)`` for r = 0, 1, ...),
reduces each to one statistic, and asserts that the theoretical value lies in
the 99% Student-t confidence interval of those statistics — and that the
interval is narrow enough that a wrong model would not pass too. Nothing is
compared against numbers copied from a seeded run.

Setting: one region, background Poisson requests only, huge headroom and zero
agreement / energization / upgrade times, so the study engineers are the only
thing a request waits for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest
import simpy

from dcsim.input.distributions import Distribution, Exponential, Fixed
from dcsim.input.spec import Region, StudyPhase
from dcsim.model.event_log import Recorder
from dcsim.model.events import EventRow
from dcsim.model.interconnection import ClusterQueue
from dcsim.model.queues import make_queue
from dcsim.model.serial_queue import SerialQueue
from dcsim.model.streams import Streams
from tests.support import assert_in_ci, mean_ci, mmc_wq, time_average

SEED = 20240611
MEAN_STUDY = 120.0  # days; the time scale is arbitrary, only ratios matter


def region(
    *,
    c: int,
    rate: float,
    phases: tuple[StudyPhase, ...],
    discipline: str = "serial",
    window: float = 0.0,
) -> Region:
    return Region(
        name="theory",
        label="Theory",
        discipline=discipline,
        study_engineers=c,
        cluster_window=window,
        phases=phases,
        agreement_time=Fixed(0.0),
        energization_time=Fixed(0.0),
        headroom_mw=1e15,
        network_upgrade_time=Fixed(0.0),
        background_rate=rate,
        background_size=Fixed(1.0),
    )


def phase(name: str, duration: Distribution, withdrawal: float = 0.0) -> StudyPhase:
    return StudyPhase(name, duration, withdrawal)


@dataclass
class Run:
    """One replication's event log and the window that statistics are taken over."""

    rows: list[EventRow]
    warmup: float  # statistics ignore requests submitted before this
    end: float  # ... and after this

    def times(self, event: str) -> dict[str, float]:
        return {r.object: r.time_days for r in self.rows if r.event == event}

    def submitted_in_window(self) -> dict[str, float]:
        return {
            k: t for k, t in self.times("request_submitted").items() if self.warmup <= t < self.end
        }


def simulate(spec: Region, replication: int, warmup: float, end: float) -> Run:
    """Run one replication of ``spec``'s region to ``end``, then on until every request
    submitted in [warmup, end) has started its study (later arrivals cannot change
    the wait of an earlier one under FCFS or cluster windows, so nothing is censored)."""
    env = simpy.Environment()
    recorder = Recorder()
    queue = make_queue(env, spec, recorder, Streams(SEED, replication))
    assert isinstance(queue, ClusterQueue if spec.discipline == "cluster" else SerialQueue)
    env.run(until=end)
    run = Run(recorder.all_rows(end), warmup, end)
    waiting = set(run.submitted_in_window())
    step = 10 * MEAN_STUDY
    while not waiting <= {r.object for r in run.rows if r.event == "study_started"}:
        env.run(until=env.now + step)
        run.rows = recorder.all_rows(env.now)
    return run


# ================================================================ M/M/c
@dataclass(frozen=True)
class MMc:
    c: int
    rho: float
    replications: int
    customers: int  # expected arrivals per replication, warm-up included

    @property
    def lam(self) -> float:
        return self.rho * self.c / MEAN_STUDY

    @property
    def spec(self) -> Region:
        return region(c=self.c, rate=self.lam, phases=(phase("study", Exponential(MEAN_STUDY)),))

    @property
    def wq(self) -> float:
        return mmc_wq(self.lam, 1 / MEAN_STUDY, self.c)


@dataclass(frozen=True)
class MMcStats:
    mean_wait: float  # over requests submitted in the window
    lq: float  # time-average number waiting for an engineer over the window
    little_gap: float  # (integral of the number waiting - sum of the waits) / window length


def mmc_stats(case: MMc, replication: int) -> MMcStats:
    end = case.customers / case.lam
    warmup = 0.15 * end
    run = simulate(case.spec, replication, warmup, end)
    in_window = run.submitted_in_window()
    waits = {r.object: r.quantity for r in run.rows if r.event == "study_started"}
    submitted, started = run.times("request_submitted"), run.times("study_started")
    for ident, wait in waits.items():  # the logged wait is the time since submission
        assert wait >= 0 and abs(wait - (started[ident] - submitted[ident])) < 1e-6, (
            f"{ident}: study_started logs {wait} days, but the events are "
            f"{started[ident] - submitted[ident]} days apart"
        )
    sample = np.array([waits[k] for k in in_window])
    # Number waiting: +1 at each submission, -1 at each study start. In time order: the
    # serial queue logs a background request's study rows when it arrives, ahead of time.
    jumps = sorted(
        (
            (r.time_days, 1.0 if r.event == "request_submitted" else -1.0)
            for r in run.rows
            if r.event in ("request_submitted", "study_started")
        ),
        key=lambda jump: jump[0],
    )
    lq = time_average([t for t, _ in jumps], [s for _, s in jumps], warmup, end)
    return MMcStats(float(sample.mean()), lq, lq - float(sample.sum()) / (end - warmup))


@functools.cache
def mmc_runs(case: MMc) -> tuple[MMcStats, ...]:
    return tuple(mmc_stats(case, r) for r in range(case.replications))


FAST_MMC = [MMc(c=1, rho=0.5, replications=20, customers=1500)]
SLOW_MMC = [
    MMc(c=1, rho=0.5, replications=40, customers=4000),
    MMc(c=3, rho=0.8, replications=40, customers=6000),
    MMc(c=1, rho=0.8, replications=40, customers=8000),
]
MMC_CASES = [pytest.param(case, id=f"c{case.c}-rho{case.rho}") for case in FAST_MMC] + [
    pytest.param(case, id=f"c{case.c}-rho{case.rho}-long", marks=pytest.mark.slow)
    for case in SLOW_MMC
]


@pytest.mark.parametrize("case", MMC_CASES)
def test_serial_queue_wait_is_erlang_c(case: MMc) -> None:
    """Mean wait for a study engineer = Erlang C mean wait of M/M/c."""
    runs = mmc_runs(case)
    interval = mean_ci(s.mean_wait for s in runs)
    assert_in_ci(
        case.wq, interval, f"M/M/{case.c} rho={case.rho} mean wait (days)", max_rel_half_width=0.15
    )


@pytest.mark.parametrize("case", MMC_CASES)
def test_serial_queue_obeys_littles_law(case: MMc) -> None:
    """Time-average number waiting = lambda * Wq, both against theory and on each path."""
    runs = mmc_runs(case)
    lq = mean_ci(s.lq for s in runs)
    assert_in_ci(case.lam * case.wq, lq, f"M/M/{case.c} rho={case.rho} Lq", max_rel_half_width=0.15)
    # Sample-path form: the integral of the queue length and the sum of the logged
    # waits differ only by edge effects, which average to zero in steady state.
    gap = mean_ci(s.little_gap for s in runs)
    assert 0.0 in gap, f"Lq - lambda*W over the window: {gap} should contain 0"
    assert gap.half_width < 0.05 * case.lam * case.wq, f"Little gap CI {gap} too wide"


# ================================================================ withdrawals
@dataclass(frozen=True)
class Withdrawal:
    p: float
    replications: int
    customers: int
    c: int = 2
    lam: float = 1 / 100  # per day
    mean_1: float = 60.0
    mean_2: float = 90.0

    @property
    def spec(self) -> Region:
        return region(
            c=self.c,
            rate=self.lam,
            phases=(
                phase("feasibility", Exponential(self.mean_1), self.p),
                phase("facilities", Exponential(self.mean_2)),
            ),
        )


def withdrawal_stats(case: Withdrawal, replication: int) -> tuple[float, float, float]:
    """(studies completed per day, engineers busy on average, share withdrawn after phase 1)."""
    end = case.customers / case.lam
    warmup = 0.15 * end
    run = simulate(case.spec, replication, warmup, end)
    completed = [t for t in run.times("study_completed").values() if warmup <= t < end]
    busy = sorted(
        (
            (r.time_days, 1.0 if r.event == "study_started" else -1.0)
            for r in run.rows
            if r.event in ("study_started", "study_completed", "request_withdrawn")
        ),
        key=lambda jump: jump[0],
    )
    phase_1 = [r for r in run.rows if r.event == "phase_completed" and r.detail == "feasibility"]
    withdrawn = run.times("request_withdrawn")
    assert all(r.detail == "feasibility" for r in run.rows if r.event == "request_withdrawn")
    return (
        len(completed) / (end - warmup),
        time_average([t for t, _ in busy], [s for _, s in busy], warmup, end),
        len(withdrawn) / len(phase_1),
    )


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(Withdrawal(p=0.4, replications=20, customers=1200), id="fast"),
        pytest.param(
            Withdrawal(p=0.4, replications=40, customers=5000), id="long", marks=pytest.mark.slow
        ),
    ],
)
def test_withdrawals_reduce_throughput_and_load(case: Withdrawal) -> None:
    """Withdrawal with probability p after phase 1 of 2: completed studies flow at
    (1-p)*lambda, and the engineers carry lambda*(m1 + (1-p)*m2) (Little on the servers)."""
    runs = [withdrawal_stats(case, r) for r in range(case.replications)]
    throughput = mean_ci(r[0] for r in runs)
    assert_in_ci(
        (1 - case.p) * case.lam, throughput, "completed studies per day", max_rel_half_width=0.06
    )
    busy = mean_ci(r[1] for r in runs)
    assert_in_ci(
        case.lam * (case.mean_1 + (1 - case.p) * case.mean_2),
        busy,
        "busy study engineers",
        max_rel_half_width=0.06,
    )
    share = mean_ci(r[2] for r in runs)
    assert_in_ci(case.p, share, "share withdrawn after phase 1", max_rel_half_width=0.06)


# ================================================================ clusters
WINDOW = 90.0  # days a cluster stays open


def cluster_stats(spec: Region, replication: int, end: float) -> tuple[float, int, list[str]]:
    """(mean wait before study, clusters that queued for the slot, violations of the
    cluster-window bounds) of one replication."""
    warmup = 2 * WINDOW
    run = simulate(spec, replication, warmup, end)
    submitted = run.times("request_submitted")
    closed = run.times("cluster_closed")
    started = run.times("study_started")
    problems = []
    # Cluster name -> its members, in the order the clusters closed.
    clusters: dict[str, list[str]] = {}
    for r in run.rows:
        if r.event == "cluster_closed":
            clusters.setdefault(r.detail, []).append(r.object)
    free_at = 0.0  # Lindley recursion over clusters for the single study slot
    queued = 0
    study_days = sum(p.duration.mean for p in spec.phases)
    for name, members in clusters.items():
        if members[0] not in started:  # still waiting for the slot at the end of the run
            break
        close = closed[members[0]]
        begin = started[members[0]]
        expected_start = max(close, free_at)
        queued += expected_start > close
        free_at = expected_start + study_days
        if abs(close / WINDOW - round(close / WINDOW)) > 1e-9:
            problems.append(f"{name} closed at {close}, not at a window boundary")
        if abs(begin - expected_start) > 1e-6:
            problems.append(f"{name} started at {begin}, slot frees at {expected_start}")
        for ident in members:
            gathered = closed[ident] - submitted[ident]
            if not 0.0 <= gathered <= WINDOW + 1e-9:
                problems.append(f"{ident} waited {gathered} days for its cluster to close")
            if started[ident] != begin:
                problems.append(f"{ident} started apart from its cluster {name}")
            # The whole wait: gathering (0..W) plus the cluster's wait for the slot.
            if not 0.0 <= started[ident] - submitted[ident] <= WINDOW + begin - close + 1e-9:
                problems.append(f"{ident} waited {started[ident] - submitted[ident]} days")
    if set(run.submitted_in_window()) - set(closed):
        problems.append("a request was never put in a cluster")
    waits = [started[k] - submitted[k] for k in run.submitted_in_window()]
    return float(np.mean(waits)), queued, problems


@pytest.mark.parametrize(
    "replications, end",
    [
        pytest.param(20, 67 * WINDOW, id="fast"),
        pytest.param(40, 445 * WINDOW, id="long", marks=pytest.mark.slow),
    ],
)
def test_cluster_wait_is_half_a_window_when_the_slot_is_idle(replications: int, end: float) -> None:
    """Fixed window W and fixed phases shorter than W: every request waits between 0 and
    W for its cluster to close, the cluster starts at once, and the mean wait of Poisson
    arrivals is W/2."""
    spec = region(
        c=1,
        rate=0.2,
        discipline="cluster",
        window=WINDOW,
        phases=(phase("cluster", Fixed(30.0)), phase("restudy", Fixed(40.0))),
    )
    means = []
    for r in range(replications):
        mean, queued, problems = cluster_stats(spec, r, end)
        assert not problems, problems[:5]
        assert queued == 0, "the study slot should never be busy when a cluster closes"
        means.append(mean)
    assert_in_ci(
        WINDOW / 2, mean_ci(means), "mean wait in a cluster window", max_rel_half_width=0.03
    )


def test_cluster_wait_adds_queueing_for_the_study_slot() -> None:
    """Phases longer than the window: requests still wait at most W for their cluster to
    close, and each cluster then waits for the study slot exactly as Lindley's
    recursion over the clusters says, so a request's wait is within [0, W + slot wait]."""
    spec = region(
        c=1,
        rate=0.01,
        discipline="cluster",
        window=WINDOW,
        phases=(phase("cluster", Fixed(60.0)), phase("restudy", Fixed(60.0))),
    )
    queued = 0
    for r in range(10):
        _, n, problems = cluster_stats(spec, r, 10_000.0)
        assert not problems, problems[:5]
        queued += n
    assert queued > 50, "the test should make clusters queue for the study slot"
