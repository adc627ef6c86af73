"""The transformer market against queueing theory.

With one production line, a fixed build time b and Poisson orders, the market
is an M/D/1 queue. Site-like probe orders (``market.order(rng)`` processes at
Poisson times) ride on top of the background stream; by PASTA they see the
time-stationary queue, so their wait for a line must match Pollaczek–Khinchine.
Tolerances are 99% Student-t intervals over independent replications
(``Streams(SEED, r)``); nothing is compared with numbers copied from a seeded run.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pytest
import simpy

from dcsim.input.distributions import Distribution, Fixed
from dcsim.input.spec import EquipmentSupply as TransformerSupply
from dcsim.model.equipment import EquipmentMarket as TransformerMarket
from dcsim.model.streams import Streams
from tests.support import assert_in_ci, md1_wq, mean_ci

SEED = 7_310_2025
BUILD = 30.0  # days one line spends on one unit
PROBE_SHARE = 0.25  # share of all orders that are probes; the rest are background
NO_TIME = Fixed(0.0)


def supply(
    *,
    rate: float,
    backlog: int = 0,
    design: Distribution = NO_TIME,
    transport: Distribution = NO_TIME,
) -> TransformerSupply:
    return TransformerSupply(
        name="theory",
        output_per_day=1 / BUILD,
        lines=1,
        design_time=design,
        transport_time=transport,
        installation_time=NO_TIME,
        background_rate=rate,
        initial_backlog=backlog,
    )


@dataclass
class MarketRun:
    orders: list[tuple[float, float]]  # (ordered at, lead time) of each probe order
    backlog: list[float]  # backlog_days() at each sampling time (Poisson, after a warm-up)


def run_market(
    spec: TransformerSupply,
    probe_rate: float,
    replication: int,
    end: float,
    sample_every: float | None = None,
    sample_from: float = 0.0,
) -> MarketRun:
    """Probe orders at Poisson times in [0, end), and backlog samples at Poisson times
    (mean gap ``sample_every``) in [sample_from, end); runs on until every probe is
    delivered."""
    env = simpy.Environment()
    streams = Streams(SEED, replication)
    market = TransformerMarket(env, spec, streams("market/background"))
    assert math.isclose(market.build_time, BUILD)
    result = MarketRun([], [])
    placed = [0]
    arrivals, designs = streams("probes/arrivals"), streams("probes/orders")
    sampling = streams("probes/sampling")

    def probe() -> simpy.events.ProcessGenerator:
        ordered = env.now
        lead = yield env.process(market.order(designs))
        result.orders.append((ordered, lead))

    def probes() -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(arrivals.exponential(1 / probe_rate))
            if env.now >= end:
                return
            placed[0] += 1
            env.process(probe())

    def sampler(mean_gap: float) -> simpy.events.ProcessGenerator:
        yield env.timeout(sample_from)
        while True:
            yield env.timeout(sampling.exponential(mean_gap))
            if env.now >= end:
                return
            result.backlog.append(market.backlog_days())

    env.process(probes())
    if sample_every is not None:
        env.process(sampler(sample_every))
    env.run(until=end)
    while placed[0] > len(result.orders):
        env.run(until=env.now + BUILD)
    return result


# ================================================================ M/D/1
@dataclass(frozen=True)
class MD1:
    rho: float
    replications: int
    orders: int  # expected orders (probes and background) per replication

    @property
    def lam(self) -> float:
        return self.rho / BUILD

    @property
    def wq(self) -> float:
        return md1_wq(self.lam, BUILD)


@dataclass(frozen=True)
class MD1Stats:
    wait: float  # mean wait for a line of probe orders placed after the warm-up
    backlog_days: float  # time-average of backlog_days()
    waiting: float  # time-average number of units waiting for the line


def md1_stats(case: MD1, replication: int) -> MD1Stats:
    end = case.orders / case.lam
    warmup = 0.1 * end
    spec = supply(rate=(1 - PROBE_SHARE) * case.lam)
    run = run_market(
        spec, PROBE_SHARE * case.lam, replication, end, sample_every=BUILD, sample_from=warmup
    )
    waits = np.array([lead - BUILD for t, lead in run.orders if t >= warmup])
    assert waits.min() >= -1e-9, "an order was built faster than one build time"
    backlog = np.array(run.backlog)
    # One line: units in the system = ceil(backlog / b); all but the one on the line wait.
    waiting = np.maximum(np.ceil(backlog / BUILD - 1e-9) - 1, 0)
    return MD1Stats(float(waits.mean()), float(backlog.mean()), float(waiting.mean()))


@functools.cache
def md1_runs(case: MD1) -> tuple[MD1Stats, ...]:
    return tuple(md1_stats(case, r) for r in range(case.replications))


MD1_CASES = [
    pytest.param(MD1(rho=0.5, replications=20, orders=5_000), id="rho0.5"),
    pytest.param(MD1(rho=0.8, replications=20, orders=8_000), id="rho0.8"),
    pytest.param(
        MD1(rho=0.5, replications=40, orders=30_000), id="rho0.5-long", marks=pytest.mark.slow
    ),
    pytest.param(
        MD1(rho=0.8, replications=40, orders=60_000), id="rho0.8-long", marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize("case", MD1_CASES)
def test_wait_for_a_line_is_pollaczek_khinchine(case: MD1) -> None:
    """Probe orders wait rho*b / (2(1-rho)) for the line (M/D/1), and the backlog a new
    order would face, averaged over time, is the same number (PASTA + FCFS)."""
    runs = md1_runs(case)
    assert_in_ci(
        case.wq,
        mean_ci(s.wait for s in runs),
        f"M/D/1 rho={case.rho} wait of probe orders (days)",
        max_rel_half_width=0.15,
    )
    assert_in_ci(
        case.wq,
        mean_ci(s.backlog_days for s in runs),
        f"M/D/1 rho={case.rho} time-average backlog_days()",
        max_rel_half_width=0.15,
    )


@pytest.mark.parametrize("case", MD1_CASES)
def test_units_waiting_obey_littles_law(case: MD1) -> None:
    """Time-average number of units waiting for the line = lambda * Wq."""
    runs = md1_runs(case)
    assert_in_ci(
        case.lam * case.wq,
        mean_ci(s.waiting for s in runs),
        f"M/D/1 rho={case.rho} units waiting",
        max_rel_half_width=0.15,
    )


# ================================================================ monotonicity
def mean_lead_time(rho: float, replication: int, end: float) -> float:
    probe_rate = 0.1 / BUILD
    spec = supply(
        rate=rho / BUILD - probe_rate, backlog=12, design=Fixed(60.0), transport=Fixed(20.0)
    )
    run = run_market(spec, probe_rate, replication, end)
    return float(np.mean([lead for _, lead in run.orders]))


@pytest.mark.parametrize(
    "replications, end",
    [
        pytest.param(30, 20_000.0, id="fast"),
        pytest.param(40, 40_000.0, id="long", marks=pytest.mark.slow),
    ],
)
def test_lead_time_rises_with_demand(replications: int, end: float) -> None:
    """With an initial backlog and demand at rho = 0.3, 0.6, 0.9, the mean lead time of
    probe orders strictly increases, by more than the uncertainty of each step."""
    rhos = (0.3, 0.6, 0.9)
    leads = np.array([[mean_lead_time(rho, r, end) for rho in rhos] for r in range(replications)])
    intervals = [mean_ci(leads[:, k]) for k in range(len(rhos))]
    floor = 60.0 + BUILD + 20.0  # design + build + transport, with no wait at all
    assert intervals[0].low > floor, f"rho=0.3 lead {intervals[0]} should exceed {floor}"
    for k in range(1, len(rhos)):
        lower, higher = intervals[k - 1], intervals[k]
        # Independent intervals do not overlap ...
        assert higher.low > lower.high, (
            f"lead time at rho={rhos[k]} {higher} not above rho={rhos[k - 1]} {lower}"
        )
        # ... and the paired difference (same replication, same random numbers) is
        # larger than its own interval.
        step = mean_ci(leads[:, k] - leads[:, k - 1])
        assert step.low > 0, f"lead-time step rho {rhos[k - 1]} -> {rhos[k]}: {step}"
