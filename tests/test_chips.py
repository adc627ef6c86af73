"""GPU supplies (issue 13, item 1): lots ordered from a packaging-limited supply.

Proven three ways: timelines worked out by hand (orders made first come, first served at
an output that steps up; a site's lot delivered when the supply has made and shipped it),
invariants under hypothesis (more output never delays an order; orders are made in the
order they were placed; background orders taken in lazily are a process per order in
bare SimPy), and theory (Poisson background orders of one GPU at a fixed output are the
M/D/1 queue: a look at a random time sees the Pollaczek-Khinchine wait).

Pro-rata allocation is proven the same three ways: splits worked out by hand, invariants
(orders still finish in the order placed, the line is work-conserving, more output never
delays an order) and theory (with orders of one size it is processor sharing, whose
mean time in the system is the service time / (1 - rho) for any service distribution).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.errors import SpecError
from dcsim.input.distributions import Fixed
from dcsim.input.dump import to_toml
from dcsim.input.spec import GpuSupply
from dcsim.model.chips import ChipSupply, ProRataSupply, chip_supply
from dcsim.model.equipment import ArrivalClock
from dcsim.model.simulation import simulate
from dcsim.model.streams import Streams
from tests.support import SITE_A, assert_in_ci, mean_ci, scenario_file

START = dt.date(2025, 1, 1)


def supply(**changes: object) -> GpuSupply:
    """100 GPUs a day, no transport, no one else ordering unless asked."""
    base: dict[str, object] = dict(name="c", output_per_day=100.0, transport_time=Fixed(0.0),
                                   background_rate=0.0, background_order=1)  # fmt: skip
    base.update(changes)
    return GpuSupply(**base)  # type: ignore[arg-type]


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def leads(spec: GpuSupply, orders: list[tuple[float, int]], seed: int = 1) -> list[float]:
    """Lead time of each (day, GPUs) order, placed in that order at equal days."""
    env = simpy.Environment()
    streams = Streams(seed, 0)
    market = chip_supply(env, spec, streams("background"), START)
    result: dict[int, float] = {}

    def order(index: int, at: float, gpus: int) -> simpy.events.ProcessGenerator:
        yield env.timeout(at)
        result[index] = yield env.process(market.order(gpus, streams(f"order-{index}")))

    for index, (at, gpus) in enumerate(orders):
        env.process(order(index, at, gpus))
    env.run()
    return [result[i] for i in range(len(orders))]


# ================================================================ by hand
def test_orders_are_made_first_come_first_served_at_an_output_that_steps_up() -> None:
    # 100 GPUs a day, 200 from day 12. A: 1,000 on day 0, made on day 10. B: 500 on day 5
    # waits for A, then 200 by day 12 and 300 at 200 a day: made on day 13.5. C: 200 on day
    # 30, nothing ahead: made on day 31.
    spec = supply(output_steps=((day(12), 200.0),))
    assert leads(spec, [(0, 1000), (5, 500), (30, 200)]) == pytest.approx([10, 8.5, 1])


def test_a_backlog_and_transport_push_the_delivery_back() -> None:
    # 2,000 GPUs on order when the supply opens on day 0 (made by day 20); 1,000 ordered on
    # day 10 are made on day 30 and shipped in 7 days: a lead time of 27 days.
    spec = supply(initial_backlog=2000, transport_time=Fixed(7.0))
    assert leads(spec, [(10, 1000)]) == pytest.approx([27])


def pro_rata(**changes: object) -> GpuSupply:
    return dataclasses.replace(supply(**changes), allocation="pro_rata")


def test_pro_rata_splits_the_output_by_order_size() -> None:
    # 100 GPUs a day. A: 1,000 on day 0, alone until day 5 (500 made). B: 1,000 on day 5:
    # from then on each gets 50 a day, so A's last 500 take 10 days (done day 15, a lead
    # of 15) and B has 500 by then and the whole line after: done on day 20 (a lead of 15).
    assert leads(pro_rata(), [(0, 1000), (5, 1000)]) == pytest.approx([15, 15])
    # B: 3,000 on day 5 gets 75 a day and A 25: A's 500 take 20 days (done day 25); B has
    # 1,500 by then and makes the other 1,500 at 100 a day: done on day 40 (a lead of 35).
    # First come, first served would finish A on day 10 and B on day 40.
    assert leads(pro_rata(), [(0, 1000), (5, 3000)]) == pytest.approx([25, 35])
    assert leads(supply(), [(0, 1000), (5, 3000)]) == pytest.approx([10, 35])


def test_pro_rata_shares_a_stepped_output_with_the_backlog_and_ships_after() -> None:
    # 1,000 GPUs on order at the opening (day 0); 1,000 more ordered on day 0 share 100 a day
    # 50/50 until day 4 (200 each), then 300 a day from day 4: 150 each, so the other 800
    # take 5.33 days: both made on day 9.33, and shipped 7 days later.
    spec = pro_rata(
        initial_backlog=1000, output_steps=((day(4), 300.0),), transport_time=Fixed(7.0)
    )
    assert leads(spec, [(0, 1000)]) == pytest.approx([4 + 800 / 150 + 7])


CHIP_CATALOG = """
[gpu_supplies.c]
output = "200 GPU/day"
transport_time = "20 days"
initial_backlog = 8000
"""


def test_a_site_lot_ordered_from_a_supply_is_delivered_when_it_is_made(tmp_path: Path) -> None:
    # Site A (tests/support.py) with its lot ordered on day 30 instead of contracted for day
    # 150: the 8,000 GPUs ahead are made by day 40, the lot's 20,000 by day 140, and it is
    # on site 20 days later, on day 160. The hall stands on day 200, so crews install the lot
    # 200-220 and all run on day 220, as with the contract.
    site = SITE_A.replace("delivery = 2025-05-31", 'supply = "c"\nordered = 2025-01-31')
    spec = dcsim.load(scenario_file(tmp_path, site + CHIP_CATALOG))
    result = simulate(spec)
    events = {(e.event, e.object): e for e in result.events if e.site == "a"}
    assert events["gpus_ordered", "L1"].time_days == 30
    assert "backlog 10 days" in events["gpus_ordered", "L1"].detail
    assert events["lot_delivered", "L1"].time_days == pytest.approx(160)
    record = result.summary[0]
    assert record.gpu_lead_time_days == pytest.approx(130)
    assert record.all_running_days == pytest.approx(220)
    # --dump writes the lot and the supply as they were read.
    dumped = tmp_path / "dumped.toml"
    dumped.write_text(to_toml(spec), encoding="utf-8")
    assert dcsim.load(dumped) == spec


def test_site_lots_from_a_pro_rata_supply_share_the_output_by_order_size(tmp_path: Path) -> None:
    # As above with pro rata, and a second lot L2 of 2,000 ordered on day 40. On day 30 the
    # backlog (8,000 ordered, 2,000 left: "backlog 10 days") and L1 (20,000) share 200 a day
    # 8:20; from day 40 with L2, 8:20:2. In the line's virtual time v (dv/dt = 200 / GPUs on
    # order, each order done one unit of v after it was placed): v = 0.75 on day 30, + 10/140
    # by day 40; the backlog is done at v = 1 after 0.1786 x 150 = 26.79 more days (day
    # 66.79); L1 at v = 1.75 after 0.75 x 110 = 82.5 more (day 149.29), L2 at v = 1.82 on
    # day 150, when all 30,000 are made. On site 20 days later: L1 day 169.29 (first come,
    # first served: 160), L2 day 170 (the same under either rule).
    l2 = '[[sites.a.lots]]\nname = "L2"\ncount = 2000\nmodel = "G"\nsupply = "c"\nordered = 2025-02-10\n'
    site = SITE_A.replace("delivery = 2025-05-31", 'supply = "c"\nordered = 2025-01-31')
    site = site.replace("[sites.a.installation]", l2 + "[sites.a.installation]")
    delivered = {}
    for rule in ("fcfs", "pro_rata"):
        (tmp_path / rule).mkdir()
        text = scenario_file(tmp_path / rule, site + CHIP_CATALOG + f'allocation = "{rule}"\n')
        result = simulate(dcsim.load(text))
        events = {(e.event, e.object): e for e in result.events if e.site == "a"}
        assert "backlog 10 days" in events["gpus_ordered", "L1"].detail
        delivered[rule] = [events["lot_delivered", lot].time_days for lot in ("L1", "L2")]
    assert delivered["fcfs"] == pytest.approx([160, 170])
    assert delivered["pro_rata"] == pytest.approx([40 + 0.75 / 4.2 * 150 + 82.5 + 20, 170])


# ================================================================ invariants
orders = st.lists(st.tuples(st.integers(0, 300), st.integers(1, 5000)), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(times=st.lists(st.integers(0, 400), min_size=1, max_size=5), rate=st.floats(0.05, 1.5))
def test_background_orders_taken_in_lazily_are_a_process_per_order_in_bare_simpy(
    times: list[int], rate: float
) -> None:
    # A bare SimPy model: one line (a resource of capacity 1), every order a process that
    # holds it for size / output days, background arrivals from the same clock.
    spec = supply(
        background_rate=rate, background_order=80, background_steps=((day(100), rate / 2),)
    )
    env = simpy.Environment()
    line = simpy.Resource(env, capacity=1)
    clock = ArrivalClock([(-math.inf, rate), (100.0, rate / 2)], Streams(1, 0)("background"))
    result: list[float] = []

    def unit(at: float, gpus: int, lead: list[float] | None) -> simpy.events.ProcessGenerator:
        yield env.timeout(at - env.now)
        with line.request() as turn:
            yield turn
            yield env.timeout(gpus / 100.0)
        if lead is not None:
            lead.append(env.now - at)

    def background() -> simpy.events.ProcessGenerator:
        arrival = clock.after(0.0)
        while arrival < 1500.0:
            yield env.timeout(arrival - env.now)
            env.process(unit(arrival, 80, None))
            arrival = clock.after(arrival)

    env.process(background())
    placed = sorted(times)
    for at in placed:
        env.process(unit(float(at), 300, result))
    env.run()
    assert leads(spec, [(float(t), 300) for t in placed]) == pytest.approx(result, abs=1e-9)


@pytest.mark.parametrize("rule", ["fcfs", "pro_rata"])
@settings(max_examples=60, deadline=None)
@given(orders=orders, step_day=st.integers(0, 300), more=st.floats(1.0, 5.0))
def test_orders_finish_in_turn_and_more_output_never_delays_one(
    rule: str, orders: list[tuple[int, int]], step_day: int, more: float
) -> None:
    placed = sorted(orders, key=lambda o: o[0])
    background = dict(background_rate=1.5, background_order=50, initial_backlog=500)
    base = dataclasses.replace(supply(**background), allocation=rule)
    bigger = dataclasses.replace(base, output_steps=((day(step_day), 100.0 * more),))
    before, after = leads(base, placed), leads(bigger, placed)
    for b, a in zip(before, after, strict=True):
        assert a <= b + 1e-6
    finished = [at + lead for (at, _), lead in zip(placed, before, strict=True)]
    assert finished == sorted(finished)  # placed first, finished first, even pro rata
    if rule == "fcfs":
        return
    # With no one else ordering, the line is busy exactly as long under either rule: the
    # last order is done when first come, first served would finish it.
    alone = [at + lead for (at, _), lead in zip(placed, leads(pro_rata(), placed), strict=True)]
    fcfs = [at + lead for (at, _), lead in zip(placed, leads(supply(), placed), strict=True)]
    assert max(alone) == pytest.approx(max(fcfs))
    # And no order is done sooner than first come, first served would do it: by then the
    # orders placed before it are all made, and some of the later ones' GPUs too.
    assert all(p >= f - 1e-6 for p, f in zip(alone, fcfs, strict=True))


# ================================================================ theory
@pytest.mark.parametrize("rho", [0.5, 0.7])
def test_one_gpu_orders_at_a_fixed_output_wait_as_the_md1_queue(rho: float) -> None:
    # lambda = rho orders a day of one GPU, output 1 a day: the M/D/1 wait is
    # rho / (2 mu (1 - rho)) days (1/2 at 0.5, 7/6 at 0.7: the lead time rises with demand as
    # theory says). An order of one GPU at a fixed time sees the time-average work ahead
    # (PASTA for the background's Poisson arrivals), so its lead time is that wait plus its
    # own day of production. 200 days of warm-up make it stationary.
    spec = supply(output_per_day=1.0, background_rate=rho, background_order=1, warm_up=200.0)
    samples = []
    for replication in range(600):
        env = simpy.Environment()
        streams = Streams(11, replication)
        market = ChipSupply(env, spec, streams("background"), START)
        samples.append(market.backlog_days() + 1.0)
    assert_in_ci(rho / (2 * (1 - rho)) + 1.0, mean_ci(samples), "M/D/1 lead time", 0.1)


def test_one_gpu_orders_shared_pro_rata_take_the_processor_sharing_time() -> None:
    # Orders of one GPU, pro rata: egalitarian processor sharing. At lambda = 0.6 a day and
    # an output of 1 a day (rho = 0.6), the M/G/1-PS time in the system of a 1-GPU order is
    # 1 / (1 - rho) = 2.5 days (first come, first served: 1 + 0.75 = 1.75). One order placed
    # after 200 days of warm-up.
    spec = pro_rata(output_per_day=1.0, background_rate=0.6, background_order=1, warm_up=200.0)
    samples = []
    for replication in range(500):
        env = simpy.Environment()
        streams = Streams(13, replication)
        market = ProRataSupply(env, spec, streams("background"), START)
        process = env.process(market.order(1, streams("order")))
        env.run(process)
        samples.append(process.value)
    assert_in_ci(1 / (1 - 0.6), mean_ci(samples), "M/G/1-PS time in system", 0.12)


def test_the_bundled_supply_is_tight_in_2025_and_eases_as_packaging_expands() -> None:
    # catalog/chips.toml: 2024-04 inside U8's 8-12 weeks on average; 2025-26 longer; 2029
    # shorter again (U7: output more than triples 2024 -> 2027).
    scenario = dcsim.load(Path(__file__).resolve().parent.parent / "sites" / "portfolio.toml")
    spec = next(s for s in scenario.gpu_supplies if s.name == "cowos")

    def weeks(when: dt.date) -> float:
        values = []
        for replication in range(12):
            env = simpy.Environment(initial_time=-spec.warm_up)
            market = ChipSupply(env, dataclasses.replace(spec, warm_up=0.0),
                                Streams(1, replication)("b"), START)  # fmt: skip
            env.run(until=float((when - START).days))
            values.append(market.backlog_days() / 7 + 4)  # + mean transport, 4 weeks
        return float(np.mean(values))

    april_2024, mid_2025, year_2029 = (
        weeks(dt.date(2024, 4, 1)),
        weeks(day(181)),
        weeks(dt.date(2029, 1, 1)),
    )
    assert 8 <= april_2024 <= 12.5
    assert mid_2025 > 1.5 * april_2024 and year_2029 < mid_2025 / 2


# ================================================================ bad input
@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (
            'supply = "c"\nordered = 2025-01-31\ndelivery = 2025-05-31',
            ("delivery", "the order date is ordered"),
        ),
        ('supply = "nope"\nordered = 2025-01-31', ("supply", "nope", "GPU supply")),
    ],
)
def test_bad_lots_from_a_supply_are_refused(
    tmp_path: Path, edit: str, fragments: tuple[str, ...]
) -> None:
    site = SITE_A.replace("delivery = 2025-05-31", edit)
    with pytest.raises(SpecError) as info:
        dcsim.load(scenario_file(tmp_path, site + CHIP_CATALOG))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_an_unknown_allocation_rule_is_refused(tmp_path: Path) -> None:
    site = SITE_A.replace("delivery = 2025-05-31", 'supply = "c"\nordered = 2025-01-31')
    with pytest.raises(SpecError) as info:
        dcsim.load(scenario_file(tmp_path, site + CHIP_CATALOG + 'allocation = "fair"\n'))
    for fragment in ("allocation", "fair", "pro_rata", "fcfs"):
        assert fragment in str(info.value)


def test_a_falling_output_schedule_is_refused(tmp_path: Path) -> None:
    catalog = CHIP_CATALOG + 'output_schedule = [{ from = 2025-06-01, output = "100 GPU/day" }]\n'
    site = SITE_A.replace("delivery = 2025-05-31", 'supply = "c"\nordered = 2025-01-31')
    with pytest.raises(SpecError, match="output never falls"):
        dcsim.load(scenario_file(tmp_path, site + catalog))
