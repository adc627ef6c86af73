"""Long-lead equipment markets (transformers, switchgear, gas turbines) and the gear a site
waits for.

Proven three ways: timelines worked out by hand (a line that opens on a later date; a
rate that changes; switchgear after transformers; a block waiting for its turbine and its
switchgear), invariants under hypothesis (more output never delays an order; background orders
taken in lazily, and the warm-up, are the sample path of a process per order in bare
SimPy), and theory (a Poisson
stream with a dated rate has the mean count of its integral; an overloaded market's wait
is the work ahead of an order over the output, as conservation of work says). The bundled
markets are checked against the published figures they cite (T1/T4 for V4, T7, C7).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from pathlib import Path

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.errors import SpecError
from dcsim.input.load import load
from dcsim.input.spec import EquipmentSupply
from dcsim.model.equipment import ArrivalClock, EquipmentMarket
from dcsim.model.simulation import simulate
from dcsim.model.streams import Streams
from tests.support import (
    HOURS,
    SITE_A,
    SITES,
    assert_in_ci,
    bridged,
    mean_ci,
    median_interval,
    scenario_file,
)
from tests.support import (
    MARKET_START as START,
)
from tests.support import market_day as day
from tests.support import market_supply as supply
from tests.support import order_leads as leads


class FixedExponential:
    """A source whose every Exp(1) draw is 1: every gap one unit of rate."""

    def random(self, size: int) -> np.ndarray:
        raise AssertionError("the clock draws Exp(1), not uniforms")

    def standard_exponential(self, size: int) -> np.ndarray:
        return np.ones(size)


# ================================================================ by hand
def test_a_line_that_opens_later_takes_the_first_unit_waiting_the_day_it_opens() -> None:
    # Four units ordered on day 0 on one 10-day line; a second line opens on day 25.
    # Line 1: 0-10, 10-20, 20-30. The fourth unit starts on line 2 the day it opens: 25-35.
    spec = supply(output_steps=((day(25), 0.2),))
    assert leads(spec, [0, 0, 0, 0]) == pytest.approx([10, 20, 30, 35])


def test_a_unit_ordered_after_the_line_opened_starts_at_once() -> None:
    # A second line from day 5: two units ordered on day 6 both start on day 6.
    assert leads(supply(output_steps=((day(5), 0.2),)), [6, 6]) == pytest.approx([10, 10])


def test_an_arrival_rate_that_changes_spends_one_unit_of_rate_per_gap() -> None:
    clock = ArrivalClock([(-math.inf, 0.5), (10.0, 2.0)], FixedExponential())  # type: ignore[arg-type]
    assert clock.after(0.0) == pytest.approx(2.0)  # 1 / 0.5
    assert clock.after(9.0) == pytest.approx(10.25)  # 0.5 used by day 10, 0.5 / 2 after
    assert clock.after(20.0) == pytest.approx(20.5)
    quiet = ArrivalClock([(-math.inf, 0.0), (5.0, 1.0)], FixedExponential())  # type: ignore[arg-type]
    assert quiet.after(0.0) == pytest.approx(6.0)
    assert ArrivalClock([(-math.inf, 0.0)], FixedExponential()).after(0.0) == math.inf  # type: ignore[arg-type]


SWITCHGEAR = """
[switchgear_supplies.s]
output = "1 units/day"
lines = 1
design_time = "DESIGN"
transport_time = "5 days"
installation_time = "5 days"
background_rate = "0 units/year"
"""


def with_switchgear(tmp_path: Path, design: str) -> Path:
    site = SITE_A.replace('order_policy = "at_agreement"',
                          'order_policy = "at_agreement"\nswitchgear_supply = "s"')  # fmt: skip
    path = scenario_file(tmp_path, site)
    path.write_text(path.read_text() + SWITCHGEAR.replace("DESIGN", design))
    return path


@pytest.mark.parametrize(
    "design, first_power",
    [
        # Agreement on day 110 (100 days of study, 10 to agree): both are ordered then.
        # Transformers: 20 days of design, one a day on the line (131, 132), 5 of transport,
        # 5 to install: in service on days 141 and 142. The grid comes on day 160.
        # Switchgear with 100 days of design: lines 211, 212 -> delivered 216, 217 -> in
        # service 221 (50 MW, enough for the 25 MW the GPUs draw) and 222: it binds.
        pytest.param("100 days", 221.0, id="switchgear-last"),
        # With no design time its bays are in service on days 121 and 122: the grid binds.
        pytest.param("0 days", 160.0, id="grid-last"),
    ],
)
def test_switchgear_after_transformers_binds(
    tmp_path: Path, design: str, first_power: float
) -> None:
    result = simulate(load(with_switchgear(tmp_path, design)))
    summary = result.summary[0]
    assert summary["first_power_days"] == pytest.approx(first_power)
    bays = [(e.time_days, e.quantity) for e in result.events if e.event == "switchgear_in_service"]
    start = 221.0 if design == "100 days" else 121.0
    assert bays == pytest.approx([(start, 50.0), (start + 1, 100.0)])
    if design == "100 days":
        # The hall is commissioned on day 200 and the GPUs installed at once (20,000 in one
        # batch at 1,000 a day: day 220); from 220 to 221 only switchgear holds them.
        assert summary["idle_gpu_hours_switchgear"] > 0
        relaxed = simulate(load(with_switchgear(tmp_path, design)), relaxed=("switchgear",))
        assert relaxed.summary[0]["first_power_days"] == pytest.approx(160.0)
        assert summary["switchgear_lead_time_days"] == pytest.approx((106 + 107) / 2)
    else:
        assert summary["idle_gpu_hours_switchgear"] == 0


TURBINES = """
[turbine_supplies.g]
output = "1 units/day"
lines = 1
design_time = "150 days"
transport_time = "5 days"
installation_time = "5 days"
background_rate = "0 units/year"
"""


def plant(tmp_path: Path, **keys: str) -> Path:
    path = bridged(tmp_path, **keys)
    path.write_text(path.read_text() + TURBINES + SWITCHGEAR.replace("DESIGN", "170 days"))
    return path


def test_a_block_waits_for_its_turbine(tmp_path: Path) -> None:
    # Permit (20 days) and site works (30): the blocks could run from day 50. Turbines
    # ordered on day 0: on the line from day 150 (151, 152), delivered 156, 157, installed
    # 161, 162. The 10,000 GPUs (10 MW IT, 12.5 MW at PUE 1.25) are on site on day 120 and
    # installed on day 121; one 15 MW block runs them all from day 161. Idle from 120: on
    # day 120 installation and turbines both hold them, and the one that holds longer is
    # blamed (dcsim.model.binding), so turbines have all 41 days.
    result = simulate(load(plant(tmp_path, turbine_supply='"g"')))
    summary = result.summary[0]
    online = [e.time_days for e in result.events if e.event == "onsite_block_online"]
    assert online == pytest.approx([161.0, 162.0])
    assert summary["first_power_days"] == pytest.approx(161.0)
    assert summary["idle_gpu_hours_turbines"] == pytest.approx(41 * 10000 * HOURS)
    assert summary["idle_gpu_hours_onsite"] == 0
    assert summary["turbine_lead_time_days"] == pytest.approx((156 + 157) / 2)
    relaxed = simulate(load(plant(tmp_path, turbine_supply='"g"')), relaxed=("turbines",))
    assert relaxed.summary[0]["first_power_days"] == pytest.approx(50.0)


def test_a_block_waits_for_its_turbine_and_its_switchgear(tmp_path: Path) -> None:
    # Turbines installed on days 161 and 162 as above; the blocks' switchgear (170 days of
    # design): lines 171, 172, delivered 176, 177, installed 181, 182. Block 1 runs on day
    # 181. Idle from 120: both gear hold the GPUs to 161, switchgear alone to 181.
    path = plant(tmp_path, turbine_supply='"g"', switchgear_supply='"s"')
    summary = simulate(load(path)).summary[0]
    assert summary["first_power_days"] == pytest.approx(181.0)
    held = summary["idle_gpu_hours_turbines"] + summary["idle_gpu_hours_switchgear"]
    assert held == pytest.approx(61 * 10000 * HOURS)
    assert summary["idle_gpu_hours_switchgear"] >= 20 * 10000 * HOURS - 1e-6
    for relaxed, first in [(("turbines",), 181.0), (("switchgear",), 161.0),
                           (("turbines", "switchgear"), 50.0), (("onsite",), 0.0)]:  # fmt: skip
        again = simulate(load(path), relaxed=relaxed).summary[0]
        assert again["first_power_days"] == pytest.approx(first), relaxed


# ================================================================ invariants
arrivals = st.lists(st.floats(0, 400, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    times=arrivals,
    lines=st.integers(1, 4),
    step_day=st.integers(0, 300),
    extra=st.integers(1, 4),
)
def test_more_output_never_delays_an_order(
    times: list[float], lines: int, step_day: int, extra: int
) -> None:
    base = supply(lines=lines, output_per_day=lines / 10)
    more = supply(lines=lines, output_per_day=lines / 10,
                  output_steps=((day(step_day), (lines + extra) / 10),))  # fmt: skip
    ordered = sorted(times)
    for before, after in zip(leads(base, ordered), leads(more, ordered), strict=True):
        assert after <= before + 1e-9


@settings(max_examples=60, deadline=None)
@given(
    warm_up=st.integers(1, 2000),
    rate=st.floats(0.01, 0.2),
    backlog=st.integers(0, 30),
    probe=st.integers(0, 500),
)
def test_a_warm_up_is_the_sample_path_of_running_the_market_before_the_start(
    warm_up: int, rate: float, backlog: int, probe: int
) -> None:
    # The warm-up joins background orders without SimPy; a market opened warm_up days
    # earlier in a SimPy run, with the same stream, must give every later order the same
    # lead time.
    steps = ((day(-warm_up // 2), 2 * rate), (day(100), rate / 2))
    warm = supply(lines=2, output_per_day=0.1, background_rate=rate, initial_backlog=backlog,
                  background_steps=steps, warm_up=float(warm_up))  # fmt: skip
    cold = supply(lines=2, output_per_day=0.1, background_rate=rate, initial_backlog=backlog,
                  background_steps=steps)  # fmt: skip

    def lead(spec: EquipmentSupply, opens: float) -> float:
        env = simpy.Environment(initial_time=opens)
        streams = Streams(5, 0)
        market = EquipmentMarket(env, spec, streams("background"), START)
        done = env.event()

        def order() -> simpy.events.ProcessGenerator:
            yield env.timeout(probe - env.now)
            done.succeed((yield env.process(market.order(streams("probe")))))

        env.process(order())
        env.run(until=done)
        return float(done.value)

    assert lead(warm, 0.0) == pytest.approx(lead(cold, float(-warm_up)), abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    times=st.lists(st.integers(0, 600), min_size=1, max_size=6),
    lines=st.integers(1, 3),
    rate=st.floats(0.02, 0.4),
    backlog=st.integers(0, 10),
)
def test_background_orders_taken_in_lazily_are_a_process_per_order_in_bare_simpy(
    times: list[int], lines: int, rate: float, backlog: int
) -> None:
    # The market takes background orders in only when a site's order needs the queue.
    # A bare SimPy model of the same factory, one process per order and a FIFO resource
    # of `lines` lines, fed the same arrival stream, gives every site order the same lead.
    steps = ((day(200), 2 * rate),)
    spec = supply(lines=lines, output_per_day=lines / 10, background_rate=rate,
                  initial_backlog=backlog, background_steps=steps)  # fmt: skip
    ordered = sorted(times)
    env = simpy.Environment()
    factory = simpy.Resource(env, capacity=lines)
    clock = ArrivalClock([(-math.inf, rate), (200.0, 2 * rate)], Streams(1, 0)("background"))
    result: list[float] = []

    def unit(at: float, lead: list[float] | None) -> simpy.events.ProcessGenerator:
        yield env.timeout(at - env.now)
        with factory.request() as line:
            yield line
            yield env.timeout(10.0)
        if lead is not None:
            lead.append(env.now - at)

    def background() -> simpy.events.ProcessGenerator:
        arrival = clock.after(0.0)
        while arrival < 2000.0:
            yield env.timeout(arrival - env.now)
            env.process(unit(arrival, None))
            arrival = clock.after(arrival)

    for _ in range(backlog):
        env.process(unit(0.0, None))
    env.process(background())
    for at in ordered:
        env.process(unit(float(at), result))
    env.run()  # the stream stops on day 2,000, well after the last site order
    assert leads(spec, [float(t) for t in ordered]) == pytest.approx(result, abs=1e-9)


# ================================================================ theory
def test_a_dated_rate_gives_the_poisson_count_of_its_integral() -> None:
    # Rate 0.5/day to day 100, 2/day to day 300, 0 after: E[N(0, 400)] = 50 + 400 = 450,
    # and N is Poisson, so its variance is 450 too.
    steps = [(-math.inf, 0.5), (100.0, 2.0), (300.0, 0.0)]
    counts = []
    for replication in range(200):
        clock = ArrivalClock(steps, Streams(3, replication)("arrivals"))
        t, n = clock.after(0.0), 0
        while t < 400.0:
            n, t = n + 1, clock.after(t)
        counts.append(n)
    assert_in_ci(450.0, mean_ci(counts), "mean count", 0.02)
    assert 0.7 * 450 < np.var(counts, ddof=1) < 1.4 * 450


def test_an_overloaded_market_waits_the_work_ahead_over_its_output() -> None:
    # Demand 1.5 units/day on 10 lines of 10 days (output 1/day), output 2/day from day 200
    # and a backlog of 100 that keeps every line busy: no line ever idles, so the units
    # finished by day T are the output integrated to T (less those lines still on), and
    # an order placed on day T waits for everything ordered before it. Expected units
    # ahead on day 400: 100 + 1.5 x 400 - (1 x 200 + 2 x 200) = 100; at 2/day: 50 days
    # of wait, give or take the build time of one unit (10 days).
    spec = supply(lines=10, output_per_day=1.0, background_rate=1.5, initial_backlog=100,
                  output_steps=((day(200), 2.0),))  # fmt: skip
    waits = []
    for replication in range(100):
        env = simpy.Environment()
        streams = Streams(9, replication)
        market = EquipmentMarket(env, spec, streams("background"), START)
        env.run(until=400.0)
        waits.append(market.backlog_days())
    interval = mean_ci(waits)
    assert interval.low >= 50.0 - 10.0 and interval.high <= 50.0 + 10.0, interval


# ================================================================ published figures
def placed(
    env: simpy.Environment, market: EquipmentMarket, at: float, rng: np.random.Generator
) -> simpy.events.ProcessGenerator:
    """An order placed on day ``at``; returns its lead time."""
    yield env.timeout(at)
    return (yield env.process(market.order(rng)))


def market_leads(kind: str, start: dt.date, first: float, last: float, reps: int) -> np.ndarray:
    """Mean lead time (days) of ten orders placed between days ``first`` and ``last`` after
    ``start``, in each of ``reps`` replications of the bundled market."""
    spec = dcsim.load(SITES / "abilene.toml").supply(kind, "north_america")
    means = []
    for replication in range(reps):
        env = simpy.Environment()
        streams = Streams(2025, replication)
        market = EquipmentMarket(env, spec, streams("background"), start)
        orders = [
            env.process(placed(env, market, float(at), streams(f"order-{index}")))
            for index, at in enumerate(np.linspace(first, last, 10))
        ]
        env.run(until=env.all_of(orders))
        means.append(float(np.mean([order.value for order in orders])))
    return np.array(means)


def test_transformer_lead_time_rises_with_demand_from_2021_to_2025() -> None:
    # V4 from one market: ~50 weeks at 2021 demand, ~120-150 weeks at 2024-25 demand (T1),
    # with the backlog built by demand outrunning output since 2019 (T4), not typed in.
    start = dt.date(2021, 1, 1)
    weeks_2021 = market_leads("transformer", start, 90, 270, 20) / 7
    weeks_2025 = market_leads("transformer", start, 4 * 365 + 30, 4 * 365 + 300, 20) / 7
    low, high = median_interval(weeks_2021)
    assert low >= 40 and high <= 65, f"2021 orders: {low:.0f}-{high:.0f} weeks"
    low, high = median_interval(weeks_2025)
    assert low >= 120 and high <= 150, f"2025 orders: {low:.0f}-{high:.0f} weeks"
    assert (weeks_2025 > weeks_2021).all()


def test_gas_turbine_lead_time_at_2025_demand_is_three_to_four_years() -> None:
    # C7: waits of 3-4 years in 2025, about double a year earlier.
    years = market_leads("turbine", START, 30, 330, 20) / 365.25
    low, high = median_interval(years)
    assert low >= 3.0 and high <= 4.0, f"2025 turbine orders: {low:.2f}-{high:.2f} years"
    earlier = market_leads("turbine", dt.date(2024, 1, 1), 30, 150, 20) / 365.25
    assert np.median(earlier) < 0.8 * np.median(years)


def test_switchgear_lead_time_at_2025_demand_is_inside_t7() -> None:
    # T7: HV breakers 24-42 months (104-182 weeks).
    weeks = market_leads("switchgear", START, 30, 330, 20) / 7
    low, high = median_interval(weeks)
    assert low >= 100 and high <= 182, f"2025 switchgear orders: {low:.0f}-{high:.0f} weeks"


# ================================================================ bad input
@pytest.mark.parametrize(
    "edit, fragments",
    [
        ('output = "960 units/year"', ("output_schedule", "never falls")),
        ("from = 2024-01-01", ("from", "YYYY-MM-DD")),
        ("warm_up", ("warm_up", "at most 50 years")),
    ],
)
def test_bad_schedules_are_refused(tmp_path: Path, edit: str, fragments: tuple[str, ...]) -> None:
    catalog = (SITES / "catalog" / "transformers.toml").read_text()
    if edit.startswith("output"):
        catalog = catalog.replace('output = "1050 units/year"', 'output = "900 units/year"')
    elif edit.startswith("from"):
        catalog = catalog.replace("from = 2024-01-01", 'from = "2024"')
    else:
        catalog = catalog.replace('warm_up = "6 years"', 'warm_up = "60 years"')
    folder = tmp_path / "catalog"
    folder.mkdir()
    for name in ("gpus", "cooling", "regions", "switchgear", "turbines"):
        (folder / f"{name}.toml").write_text((SITES / "catalog" / f"{name}.toml").read_text())
    (folder / "transformers.toml").write_text(catalog)
    site = tmp_path / "ashburn.toml"
    site.write_text((SITES / "ashburn.toml").read_text())
    with pytest.raises(SpecError) as caught:
        load(site)
    message = str(caught.value)
    assert "transformers.toml" in message
    for fragment in fragments:
        assert fragment in message


def test_an_unknown_supply_and_an_owned_substation_with_switchgear_are_refused(
    tmp_path: Path,
) -> None:
    text = (SITES / "ashburn.toml").read_text()
    site = tmp_path / "ashburn.toml"
    site.write_text(text.replace('switchgear_supply = "north_america"', 'switchgear_supply = "x"'))
    with pytest.raises(SpecError, match="switchgear supply that exists"):
        load(site)
    owned = text.replace('order_policy = "at_agreement"',
                         'order_policy = "owned"\ndelivery = 2026-01-01')  # fmt: skip
    site.write_text(owned)
    with pytest.raises(SpecError, match="an owned substation has its own"):
        load(site)


@settings(max_examples=100, deadline=None)
@given(
    rates=st.lists(st.sampled_from([0.0, 0.05, 0.5, 3.0]), min_size=1, max_size=4),
    gaps=st.lists(st.floats(1.0, 300.0), min_size=3, max_size=3),
    start=st.floats(-500.0, 500.0),
    count=st.integers(1, 700),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_block_of_arrivals_is_one_after_another_to_the_last_bit(
    rates: list[float], gaps: list[float], start: float, count: int, seed: int
) -> None:
    # Markets draw their background arrivals a block at a time (ArrivalClock.chain):
    # the same days, bit for bit, as one after() per arrival, across changes of rate.
    steps = [(-math.inf, rates[0])]
    for rate, gap in zip(rates[1:], gaps, strict=False):
        steps.append((max(steps[-1][0], 0.0) + gap, rate))
    one_by_one = ArrivalClock(steps, np.random.default_rng(seed))
    expected, t = [], start
    for _ in range(count):
        t = one_by_one.after(t)
        expected.append(t)
    block = ArrivalClock(steps, np.random.default_rng(seed))
    first = block.chain(start, count // 2).tolist()
    rest = block.chain(first[-1] if first else start, count - count // 2).tolist()
    assert first + rest == expected


def test_a_unit_under_way_frees_its_line_before_a_new_line_opens() -> None:
    # One line, 10-day builds, a second line from day 11. Orders on days 0 and 0.5: the
    # first is done on day 10, so the second starts then on that line (done 20), not on
    # day 11 on the new one.
    spec = supply(lines=1, output_per_day=0.1, output_steps=((day(11), 0.2),))
    market = EquipmentMarket(simpy.Environment(), spec, np.random.default_rng(0), day(0))
    assert [market._build(0.0), market._build(0.5), market._build(1.0)] == [10.0, 20.0, 21.0]


def _market_and_heap(
    lines: int, opening: list[tuple[int, int]], build: float
) -> tuple[EquipmentMarket, list[float]]:
    """A market of ``lines`` lines of ``build`` days, ``opening`` (day, lines) more on
    later days, and a heap of the same lines' free days."""
    steps, total = [], lines
    for when, more in sorted(opening):
        total += more
        steps.append((day(when), total / build))
    spec = supply(lines=lines, output_per_day=lines / build, output_steps=tuple(steps))
    market = EquipmentMarket(simpy.Environment(), spec, np.random.default_rng(0), day(0))
    free = [0.0] * lines + [float(when) for when, more in sorted(opening) for _ in range(more)]
    heapq.heapify(free)
    return market, free


@settings(max_examples=100, deadline=None)
@given(
    lines=st.integers(1, 5),
    opening=st.lists(st.tuples(st.integers(1, 60), st.integers(1, 3)), max_size=3),
    orders=st.lists(st.integers(0, 120).map(lambda d: d / 2), min_size=1, max_size=60),
)
def test_the_lines_free_days_are_those_a_heap_of_them_gives(
    lines: int, opening: list[tuple[int, int]], orders: list[float]
) -> None:
    # With one build time, units finish in the order they start: two queues in time
    # order (lines not yet used, units under way) give the line a heap would give.
    build = 10.0
    market, free = _market_and_heap(lines, opening, build)
    for now in sorted(orders):
        start = max(now, free[0])
        heapq.heapreplace(free, start + build)
        assert market._build(now) == start + build


@settings(max_examples=150, deadline=None)
@given(
    lines=st.integers(1, 6),
    opening=st.lists(st.tuples(st.integers(1, 60), st.integers(1, 3)), max_size=3),
    batches=st.lists(
        st.lists(st.integers(0, 40).map(lambda d: d / 4), max_size=30), min_size=1, max_size=4
    ),
)
def test_background_orders_taken_a_row_of_lines_at_a_time_are_a_heap_of_free_days(
    lines: int, opening: list[tuple[int, int]], batches: list[list[float]]
) -> None:
    # The warm-up puts background orders on the lines a row at a time (_take_lines): the
    # lines' free days afterwards are those one order at a time on a heap gives.
    build = 10.0
    market, free = _market_and_heap(lines, opening, build)
    now = 0.0
    for batch in batches:
        arrivals = sorted(now + a for a in batch)
        for arrival in arrivals:
            heapq.heapreplace(free, max(arrival, free[0]) + build)
        market._take_lines(np.array(arrivals))
        now = arrivals[-1] if arrivals else now
        left = sorted([*market._done, *market._unused[market._used :]])
        assert left == sorted(free)
