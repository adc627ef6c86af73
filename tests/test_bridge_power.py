"""Bridge power that costs and fails: forced outages, N+1 spare blocks, fuel cost per MWh,
and retirement once the grid carries the request.

Proven three ways: timelines worked out by hand (given the logged outage dates), invariants
under hypothesis (a spare block more, or no outages, never leaves more GPUs idle with the
same random numbers), and availability theory (a block is out its forced-outage share of
the time; with one spare, both units are out that share squared).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.errors import SpecError
from dcsim.input.load import load
from dcsim.model.events import EventRow
from dcsim.model.layers import LAYERS
from dcsim.model.simulation import ReplicationResult, simulate
from tests.support import HOURS, SITE_A, assert_in_ci, bridged, mean_ci, scenario_file

ONSITE = next(layer for layer in LAYERS if layer.name == "onsite")


def outages(events: list[EventRow], horizon: float) -> dict[str, list[tuple[float, float]]]:
    """(start, end) of each block's outages, an outage still running ending at the horizon."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for e in events:
        if e.event == "onsite_block_out":
            spans.setdefault(e.object, []).append((e.time_days, horizon))
        elif e.event == "onsite_block_back":
            start, _ = spans[e.object][-1]
            spans[e.object][-1] = (start, e.time_days)
    return spans


def overlap(spans: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)


# ================================================================ by hand
def test_an_outage_of_the_only_block_idles_every_gpu_until_the_repair(tmp_path: Path) -> None:
    # One 15 MW block, out 10% of the time, 10 days a repair. From day 121 all 10,000 GPUs
    # run on it, except while it is out: then none does, and on-site power binds.
    # Energy: 10 MW IT x PUE 1.25 = 12.5 MW while they run, at 175 USD/MWh.
    path = bridged(tmp_path, blocks="1", forced_outage_rate="0.1", repair_time='"10 days"',
                   energy_cost='"175 USD/MWh"', block='"15 MW"')  # fmt: skip
    result = simulate(load(path))
    spans = outages(result.events, 600.0)["onsite/block-1"]
    assert spans, "an outage in 550 days at 10% (mean 90 days up) is all but certain"
    assert all(b - a == pytest.approx(10.0) for a, b in spans if b < 600.0)
    out_days = overlap(spans, 121.0, 600.0)
    summary = result.summary[0]
    assert summary["idle_gpu_hours_onsite"] == pytest.approx(out_days * 10000 * HOURS)
    assert summary["idle_gpu_hours"] == pytest.approx((1 + out_days) * 10000 * HOURS)
    running_days = 600.0 - 121.0 - out_days
    assert summary["onsite_energy_mwh"] == pytest.approx(12.5 * running_days * HOURS)
    assert summary["onsite_cost_usd"] == pytest.approx(175.0 * 12.5 * running_days * HOURS)
    carried = [e.quantity for e in result.events if e.event == "onsite_block_out"]
    assert set(carried) == {0.0}


def test_a_spare_block_carries_the_load_while_the_other_is_out(tmp_path: Path) -> None:
    # N+1: one block carries, a spare stands by. GPUs go idle only while both are out.
    path = bridged(tmp_path, blocks="1", spare_blocks="1", forced_outage_rate="0.3",
                   repair_time='"20 days"')  # fmt: skip
    result = simulate(load(path))
    spans = outages(result.events, 600.0)
    both = [
        (max(a, c), min(b, d))
        for a, b in spans.get("onsite/block-1", [])
        for c, d in spans.get("onsite/block-2", [])
        if min(b, d) > max(a, c)
    ]
    summary = result.summary[0]
    assert summary["idle_gpu_hours_onsite"] == pytest.approx(
        overlap(both, 121.0, 600.0) * 10000 * HOURS
    )
    online = [e for e in result.events if e.event == "onsite_block_online"]
    assert [e.detail for e in online] == ["", "spare"]


RETIRING = (
    '[sites.a.onsite]\nblock = "30 MW"\nblocks = 1\nstart = 2025-01-01\n'
    'permit_time = "20 days"\nlead_time = "30 days"\nretire_when_grid = true\n'
)


def onsite_caps(result: ReplicationResult) -> list[tuple[float, float]]:
    return [(row.time_days, row.cap(ONSITE)) for row in result.snapshots["a"]]


@pytest.mark.parametrize(
    ("site", "retires_on"),
    [
        # Grid energized on day 160, transformers in service on 141 and 142: the grid last.
        (SITE_A, 160.0),
        # Owned transformers delivered on day 300, in service 5 days later: they come last.
        (SITE_A.replace('order_policy = "at_agreement"',
                        'order_policy = "owned"\ndelivery = 2025-10-28'), 305.0),
    ],
)  # fmt: skip
def test_bridge_power_retires_once_grid_and_substation_carry_the_request(
    tmp_path: Path, site: str, retires_on: float
) -> None:
    # A 30 MW block online from day 50 retires when both carry the 100 MW request.
    result = simulate(load(scenario_file(tmp_path, site + RETIRING)))
    retired = [(e.time_days, e.quantity) for e in result.events if e.event == "onsite_retired"]
    assert retired == [(retires_on, 0.0)]
    caps = onsite_caps(result)
    assert all(cap > 0 for day, cap in caps if 50.0 <= day < retires_on)
    assert all(cap == 0 for day, cap in caps if day >= retires_on)


def test_a_plant_whose_permit_comes_after_the_grid_is_never_built(tmp_path: Path) -> None:
    # The grid carries the request on day 160 (as above); a permit due on day 200 comes too
    # late: the plant retires on day 160, and no permit, block or capacity follows.
    late = RETIRING.replace('permit_time = "20 days"', 'permit_time = "200 days"')
    result = simulate(load(scenario_file(tmp_path, SITE_A + late)))
    onsite = [(e.time_days, e.event) for e in result.events if e.object.startswith("onsite")]
    assert onsite == [(160.0, "onsite_retired")]
    assert all(cap == 0 for _, cap in onsite_caps(result))


def test_the_peak_pue_sizes_power_and_the_annual_pue_counts_energy(tmp_path: Path) -> None:
    # One 15 MW block, liquid halls with a peak PUE of 2 (annual 1.25): at the peak the
    # block carries 15 / 2 = 7.5 MW IT, so 7,500 of the 10,000 GPUs run from day 121 and
    # 2,500 stay idle for want of power. They draw 7.5 MW IT x 1.25 = 9.375 MW over
    # the year.
    path = bridged(tmp_path, blocks="1", energy_cost='"100 USD/MWh"')
    path.write_text(path.read_text().replace("pue = 1.25\n", "pue = 1.25\npeak_pue = 2.0\n"))
    summary = simulate(load(path)).summary[0]
    power_short = summary["idle_gpu_hours_onsite"] + summary["idle_gpu_hours_grid"]
    assert power_short == pytest.approx(2500 * (600 - 121) * HOURS)  # grid and plant both short
    assert summary["idle_gpu_hours"] == pytest.approx((2500 * (600 - 121) + 10000) * HOURS)
    assert summary["onsite_energy_mwh"] == pytest.approx(7.5 * 1.25 * (600 - 121) * HOURS)
    assert summary["onsite_cost_usd"] == pytest.approx(100 * 7.5 * 1.25 * (600 - 121) * HOURS)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("spare_blocks", "-1", "a whole number"),
        ("forced_outage_rate", "1.0", "a number"),
        ("forced_outage_rate", '"5%"', "a plain number"),
        ("repair_time", '"0 days"', "duration"),
        ("energy_cost", '"175 USD"', "price of energy"),
        ("retire_when_grid", '"yes"', "true or false"),
    ],
)
def test_bad_bridge_keys_are_refused_with_the_key_named(
    tmp_path: Path, key: str, value: str, expected: str
) -> None:
    with pytest.raises(SpecError, match=expected) as caught:
        load(bridged(tmp_path, **{key: value}))
    assert f"onsite.{key}" in str(caught.value)


def test_a_peak_pue_below_the_annual_one_is_refused(tmp_path: Path) -> None:
    path = bridged(tmp_path)
    path.write_text(path.read_text().replace("pue = 1.25\n", "pue = 1.25\npeak_pue = 1.1\n"))
    with pytest.raises(SpecError, match=r"annual pue \(1.25\)"):
        load(path)


# ================================================================ invariants
@settings(max_examples=30, deadline=None)
@given(
    blocks=st.integers(1, 3),
    spares=st.integers(0, 2),
    rate=st.sampled_from([0.05, 0.3]),
    repair=st.sampled_from(["2 days", "20 days"]),
    replication=st.integers(0, 5),
)
def test_a_spare_more_or_no_outages_never_idles_more_gpus(
    tmp_path_factory: pytest.TempPathFactory, blocks: int, spares: int, rate: float,
    repair: str, replication: int,
) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("bridge")

    def idle(spare_blocks: int, forced_outage_rate: float) -> float:
        path = bridged(folder, blocks=str(blocks), spare_blocks=str(spare_blocks),
                       forced_outage_rate=str(forced_outage_rate), repair_time=f'"{repair}"',
                       block='"5 MW"')  # fmt: skip
        return float(simulate(load(path), replication).summary[0]["idle_gpu_hours"])

    base = idle(spares, rate)
    assert idle(spares + 1, rate) <= base + 1e-6
    assert idle(spares, 0.0) <= base + 1e-6


# ================================================================ theory
def test_block_availability_matches_the_forced_outage_rate(tmp_path: Path) -> None:
    # Alternating up (exponential) and down (fixed) spells: in the long run a block is out
    # its forced-outage share of the time, whatever the distributions; two independent
    # blocks are out together that share squared.
    rate, horizon, start = 0.2, 3650.0, 50.0
    path = bridged(tmp_path, horizon="3650 days", blocks="1", spare_blocks="1",
                   forced_outage_rate=str(rate), repair_time='"5 days"')  # fmt: skip
    spec = load(path)
    one, both = [], []
    for replication in range(30):
        spans = outages(simulate(spec, replication).events, horizon)
        first, second = spans.get("onsite/block-1", []), spans.get("onsite/block-2", [])
        one.append(overlap(first, start, horizon) / (horizon - start))
        joint = [(max(a, c), min(b, d)) for a, b in first for c, d in second]
        both.append(
            overlap([(a, b) for a, b in joint if b > a], start, horizon) / (horizon - start)
        )
    assert_in_ci(rate, mean_ci(one), "share of time one block is out", max_rel_half_width=0.1)
    assert_in_ci(rate**2, mean_ci(both), "share of time both are out", max_rel_half_width=0.25)
