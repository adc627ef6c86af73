"""What crews install, and which of the installed GPUs run, checked by hand.

Space, like power, goes lot by lot in the dispatch order (by default those drawing least
per GPU first), each lot into the least capable halls that host it. Crews install the GPUs
on site as that placement places them, whatever is installed already, so they never
install more than the halls hold; and which installed GPUs run is decided the same way, so
a lot installed early has no claim on its place (the GPUs it loses are displaced). That places the
most GPUs the halls can hold (theory: a linear program), and it keeps a relaxation from
making a site worse when it lets a roomier lot in early
(tests/relaxation_cases/cooling_crowding.toml) or installs a roomier lot at once.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.input.load import load
from dcsim.model.allocation import LotLoad, Space, place
from dcsim.model.capacity import Snapshot
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


def _running(result: object, day: float) -> Snapshot:
    """Site b's timeseries row in force on ``day``."""
    rows = result.snapshots["b"]  # type: ignore[attr-defined]
    return max((row for row in rows if row.time_days <= day), key=lambda r: r.time_days)


def test_a_lean_lot_installed_later_takes_the_space_of_a_roomy_one(tmp_path: Path) -> None:
    assert 'name = "R"' in ROOMY_THEN_LEAN and "batch = 1000" in ROOMY_THEN_LEAN
    result = simulate(load(scenario_file(tmp_path, ROOMY_THEN_LEAN)))
    installed = [(e.time_days, e.object, e.quantity) for e in result.events
                 if e.event == "gpus_installed"]  # fmt: skip
    # R from day 110, a batch a day; A from day 130, though the hall is two-thirds full
    # of R: A comes first in the dispatch order, so the placement gives it R's space.
    assert installed == [(110.0 + k, "R", 1000.0) for k in range(1, 5)] + [
        (130.0 + k, "A", 1000.0) for k in range(1, 11)
    ]
    # Running: R alone fills 8 of the 12 MW. With k thousand A GPUs installed (k MW), A
    # runs all of them and R what is left: (12 - k) MW / 2 kW, at most its 4,000.
    for k in range(11):
        row = _running(result, 130.0 + k + 0.5)
        assert row.gpus_running == 1000 * k + min(4000, (12 - k) * 1000 // 2), k
        # Space for all but the R GPUs A displaced (power is not short: 20 MW IT).
        assert row.gpus_displaced == 4000 - min(4000, (12 - k) * 1000 // 2), k
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


_LOTS = st.lists(
    st.tuples(st.integers(0, 5000), st.sampled_from([0.7, 1.0, 1.2, 1.7, 2.0]), st.integers(0, 2)),
    min_size=1,
    max_size=4,
)
_HALLS = st.lists(st.tuples(st.floats(0.0, 10.0), st.integers(0, 2)), min_size=1, max_size=3)


def _placed(lots: list[tuple[int, float, int]], halls: list[tuple[float, int]]) -> list[int]:
    """GPUs of each lot placed in the default order (least drawing first)."""
    order = sorted(range(len(lots)), key=lambda i: lots[i][1])
    return place([LotLoad(*lot) for lot in lots], [Space(*hall) for hall in halls], order=order)


@settings(max_examples=300, deadline=None)
@given(lots=_LOTS, halls=_HALLS, lot=st.integers(0, 3), more=st.integers(1, 3000))
def test_more_gpus_of_a_lot_never_run_fewer_gpus(
    lots: list[tuple[int, float, int]], halls: list[tuple[float, int]], lot: int, more: int
) -> None:
    # Whatever the halls' and lots' cooling levels: installing more GPUs of any lot places
    # at least as many GPUs (a leaner lot displaces no more GPUs than it adds, and a
    # roomier one displaces none).
    lot %= len(lots)
    after = list(lots)
    after[lot] = (lots[lot][0] + more, *lots[lot][1:])
    assert sum(_placed(after, halls)) >= sum(_placed(lots, halls))


@settings(max_examples=300, deadline=None)
@given(lots=_LOTS, halls=_HALLS)
def test_space_in_the_default_order_runs_the_most_gpus_a_linear_program_finds(
    lots: list[tuple[int, float, int]], halls: list[tuple[float, int]]
) -> None:
    # Theory: the most GPUs that fit solve the linear program max sum(x) over x[lot, hall] >= 0
    # where the hall's cooling fits the lot, each lot's x summing to at most its GPUs and
    # each hall's x * kW to at most its MW (a transportation problem). With cooling levels
    # nested, least drawing first, each lot into the least capable hall that fits it, solves
    # it exactly; placement rounds each lot down to whole GPUs, so it may fall short by
    # less than one GPU a lot.
    from scipy.optimize import linprog

    pairs = [(i, h) for i in range(len(lots)) for h in range(len(halls))
             if halls[h][1] >= lots[i][2]]  # fmt: skip
    placed = sum(_placed(lots, halls))
    if not pairs:
        assert placed == 0
        return
    per_lot = [[1.0 if i == lot else 0.0 for i, _ in pairs] for lot in range(len(lots))]
    per_hall = [[lots[i][1] / 1000.0 if h == hall else 0.0 for i, h in pairs]
                for hall in range(len(halls))]  # fmt: skip
    best = linprog(
        c=[-1.0] * len(pairs),
        A_ub=per_lot + per_hall,
        b_ub=[lot[0] for lot in lots] + [hall[0] for hall in halls],
    )
    assert best.status == 0
    assert -best.fun - len(lots) <= placed <= -best.fun + 1e-6


# Site B bridged again (20 MW IT from day 50), its one hall 10 MW of liquid, commissioned on
# day 100. Lot H (8,000 air GPUs of 1.2 kW, 9.6 MW) comes on day 110 and stands in the
# liquid hall (an air GPU fits any hall); lot G (5,000 liquid GPUs of 1.7 kW, 8.5 MW) on
# day 130. Crews install 1,000 GPUs a day.
AIR_THEN_LIQUID = (
    BRIDGED.replace('it_power = "30 MW"', 'it_power = "10 MW"')
    .replace(
        '[[sites.b.lots]]\nname = "L1"\ndelivery = 2025-05-01\ncount = 10000\nmodel = "G"\n',
        '[[sites.b.lots]]\nname = "H"\ndelivery = 2025-04-21\ncount = 8000\nmodel = "H"\n'
        '[[sites.b.lots]]\nname = "G"\ndelivery = 2025-05-11\ncount = 5000\nmodel = "L"\n',
    )
    .replace('rate = "10000 GPU/day"\nbatch = 10000', 'rate = "1000 GPU/day"\nbatch = 1000')
    + '\n[gpus.H]\nit_power = "1.2 kW"\ncooling = "air"\nprice = "8760 USD"\n'
    + '\n[gpus.L]\nit_power = "1.7 kW"\ncooling = "liquid"\nprice = "8760 USD"\n'
)


def test_a_liquid_lot_does_not_push_air_gpus_out_of_the_space_they_run_in(tmp_path: Path) -> None:
    # Under most_gpus space goes to the air GPUs (1.2 kW) before the liquid ones (1.7 kW),
    # whatever hall they need: all 8,000 run in the liquid hall, and G's GPUs run in the
    # 0.4 MW left: 235. Crews install only those 235 (the halls hold no more), and
    # relaxing installation, which installs all of G at once, runs no fewer.
    spec = load(scenario_file(tmp_path, AIR_THEN_LIQUID))
    base = simulate(spec)
    installed = [(e.object, e.quantity) for e in base.events if e.event == "gpus_installed"]
    assert installed == [("H", 1000.0)] * 8 + [("G", 235.0)]
    for day in (125.0, 132.5, 140.0):
        assert _running(base, day).gpus_running == (8000 if day < 130 else 8000 + 235)
        assert _running(base, day).gpus_displaced == 0
    relaxed = simulate(spec, relaxed={"installation"}).summary[0]
    assert relaxed["idle_gpu_hours"] <= base.summary[0]["idle_gpu_hours"]
