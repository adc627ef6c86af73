"""What crews install, and which of the installed GPUs run, checked by hand.

Crews install any GPU on site that has a place it could stand (a commissioned hall whose
cooling fits it), in the dispatch order, whatever stands there already. Which installed
GPUs run is the evaluation's choice: space, like power, goes first to the lots first in
the dispatch order (by default those drawing least per GPU), so a lot installed early
has no claim on its place. That is what keeps a relaxation from making a site worse when
it lets a roomier lot in early (tests/relaxation_cases/cooling_crowding.toml).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.input.load import load
from dcsim.model.allocation import LotLoad, Space, place
from dcsim.model.simulation import simulate
from tests.support import BRIDGED, HOURS, scenario_file

# Site B bridged (tests/support.py): no grid within the horizon; on-site blocks bring
# 20 MW IT from day 50 (30 MW at the air PUE of 1.5). Here its one hall is 12 MW of air,
# commissioned on day 100. Lot R (4,000 GPUs of 2 kW, 8 MW) comes on day 110, lot A
# (10,000 GPUs of 1 kW, 10 MW) on day 130; crews install 1,000 GPUs a day, a batch a day.
ROOMY_THEN_LEAN = (
    BRIDGED.replace('cooling = "liquid"', 'cooling = "air"')
    .replace('it_power = "30 MW"', 'it_power = "12 MW"')
    .replace(
        '[[sites.b.lots]]\nname = "L1"\ndelivery = 2025-05-01\ncount = 10000\nmodel = "G"\n',
        '[[sites.b.lots]]\nname = "R"\ndelivery = 2025-04-21\ncount = 4000\nmodel = "R"\n'
        '[[sites.b.lots]]\nname = "A"\ndelivery = 2025-05-11\ncount = 10000\nmodel = "A"\n',
    )
    .replace('rate = "10000 GPU/day"\nbatch = 10000', 'rate = "1000 GPU/day"\nbatch = 1000')
    + '\n[gpus.R]\nit_power = "2 kW"\ncooling = "air"\nprice = "8760 USD"\n'
    + '\n[gpus.A]\nit_power = "1 kW"\ncooling = "air"\nprice = "8760 USD"\n'
)


def _running(result: object, day: float) -> int:
    rows = result.snapshots["b"]  # type: ignore[attr-defined]
    return max((row for row in rows if row.time_days <= day), key=lambda r: r.time_days)


def test_a_lean_lot_installed_later_takes_the_space_of_a_roomy_one(tmp_path: Path) -> None:
    assert 'name = "R"' in ROOMY_THEN_LEAN and "batch = 1000" in ROOMY_THEN_LEAN
    result = simulate(load(scenario_file(tmp_path, ROOMY_THEN_LEAN)))
    installed = [(e.time_days, e.object, e.quantity) for e in result.events
                 if e.event == "gpus_installed"]  # fmt: skip
    # R from day 110, a batch a day; A from day 130, though the hall is two-thirds full
    # of R: each A GPU has a place it could stand.
    assert installed == [(110.0 + k, "R", 1000.0) for k in range(1, 5)] + [
        (130.0 + k, "A", 1000.0) for k in range(1, 11)
    ]
    # Running: R alone fills 8 of the 12 MW. With k thousand A GPUs installed (k MW), A
    # runs all of them and R what is left: (12 - k) MW / 2 kW, at most its 4,000.
    for k in range(11):
        row = _running(result, 130.0 + k + 0.5)
        assert row.gpus_running == 1000 * k + min(4000, (12 - k) * 1000 // 2), k
    # Idle GPU-hours: R waits for crews (4 + 3 + 2 + 1 thousand GPU-days), A too
    # (10 + 9 + ... + 1), and from day 135 R gives up 500 GPUs a day to A, down to the
    # 1,000 that run from day 140 on: 0.5 + 1 + ... + 2.5 thousand, then 3,000 to day 600.
    gpu_days = 10_000 + 55_000 + 7_500 + 3_000 * 460
    summary = result.summary[0]
    assert summary["idle_gpu_hours"] == pytest.approx(gpu_days * HOURS)
    assert summary["gpus_idle_at_horizon"] == 3000
    assert math.isnan(summary["all_running_days"])


def test_with_the_building_relaxed_every_installed_gpu_runs(tmp_path: Path) -> None:
    # Unlimited space: R runs as installed (110-114), A too (130-140), and 18 MW of GPUs
    # fit the 20 MW IT of the plant: all run from day 140.
    spec = load(scenario_file(tmp_path, ROOMY_THEN_LEAN))
    summary = simulate(spec, relaxed={"building"}).summary[0]
    assert summary["all_running_days"] == 140
    assert summary["idle_gpu_hours"] == pytest.approx((10_000 + 55_000) * HOURS)


@settings(max_examples=200, deadline=None)
@given(
    gpus=st.lists(st.integers(0, 5000), min_size=2, max_size=4),
    kws=st.lists(st.sampled_from([0.7, 1.0, 1.2, 1.7, 2.0]), min_size=4, max_size=4),
    halls=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=3),
    lot=st.integers(0, 3),
    more=st.integers(1, 3000),
)
def test_more_gpus_of_a_lot_never_run_fewer_gpus_in_one_level(
    gpus: list[int], kws: list[float], halls: list[float], lot: int, more: int
) -> None:
    # In space of one cooling level, lots placed least drawing first: installing more GPUs
    # of any lot runs at least as many GPUs (a leaner one displaces no more than it adds).
    lot %= len(gpus)
    space = [Space(mw, 0) for mw in halls]
    order = sorted(range(len(gpus)), key=lambda i: kws[i])
    before = [LotLoad(n, kws[i], 0) for i, n in enumerate(gpus)]
    after = list(before)
    after[lot] = before[lot]._replace(gpus=before[lot].gpus + more)
    assert sum(place(after, space, order=order)) >= sum(place(before, space, order=order))


@settings(max_examples=200, deadline=None)
@given(
    gpus=st.lists(st.integers(0, 5000), min_size=1, max_size=4),
    kws=st.lists(st.sampled_from([0.7, 1.0, 1.2, 1.7, 2.0]), min_size=4, max_size=4),
    halls=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=3),
)
def test_space_in_the_default_order_runs_the_most_gpus_a_linear_program_finds(
    gpus: list[int], kws: list[float], halls: list[float]
) -> None:
    # Theory: in space of one cooling level, the most GPUs that fit solve the linear
    # program max sum(n) subject to sum(n * kW) <= MW, 0 <= n <= GPUs (a fractional
    # knapsack, which least drawing first solves exactly). Placement rounds each lot down
    # to whole GPUs, so it may fall short by less than one GPU a lot.
    from scipy.optimize import linprog

    kws = kws[: len(gpus)]
    order = sorted(range(len(gpus)), key=lambda i: kws[i])
    placed = place([LotLoad(n, kw, 0) for n, kw in zip(gpus, kws, strict=True)],
                   [Space(mw, 0) for mw in halls], order=order)  # fmt: skip
    best = linprog(
        c=[-1.0] * len(gpus),
        A_ub=[[kw / 1000.0 for kw in kws]],
        b_ub=[sum(halls)],
        bounds=[(0, n) for n in gpus],
    )
    assert best.status == 0
    assert -best.fun - len(gpus) <= sum(placed) <= -best.fun + 1e-6
