"""Relaxing layers never makes a site worse, and each layer's relaxation does what it says.

Relaxing a layer makes it instantly available and unlimited (see
dcsim.model.layers). With common random numbers (the same replication), any set
of relaxed layers must leave every site with no more idle GPU-hours, no later
first power and no later all-running date than the base run, up to the crews' batching
(batch_slack: one batch's GPUs waiting one batch's install time, a list-scheduling anomaly).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.input.budget import estimate
from dcsim.input.spec import Scenario
from dcsim.model.layers import BY_NAME, LAYERS, NAMES
from dcsim.model.records import SiteRecord
from dcsim.model.simulation import simulate
from tests.support import (
    HOURS,
    SITE_A,
    SITE_B,
    SITES,
    batch_slack,
    every_subset,
    load_text,
    random_scenario,
    scenario_file,
    subset_family,
)

SOME_SUBSETS = subset_family(NAMES)
ALL_SUBSETS = every_subset(NAMES)


def _date_not_later(base: float, relaxed: float, slack: float) -> bool:
    """A date reached in the base is reached no later; NaN means not within the horizon."""
    if math.isnan(base):
        return True
    return not math.isnan(relaxed) and relaxed <= base + slack + 1e-9


def assert_never_worse(
    base: list[SiteRecord], relaxed: list[SiteRecord], what: object, scenario: Scenario
) -> None:
    for b, r, site in zip(base, relaxed, scenario.sites, strict=True):
        hours, days = batch_slack(site)
        slack = 1e-9 * max(1.0, b.idle_gpu_hours) + hours
        assert r.idle_gpu_hours <= b.idle_gpu_hours + slack, (what, b.site, b, r)
        assert _date_not_later(b.first_power_days, r.first_power_days, days), (what, b.site)
        assert _date_not_later(b.all_running_days, r.all_running_days, days), (what, b.site)


def check_subsets(
    text: str, replication: int, most_events: int, subsets: list[frozenset[str]]
) -> None:
    scenario = load_text(text)
    # Up to 255 runs per example: keep each small (GPUs installed one at a time, say, would
    # take a minute per example without testing anything more).
    assume(sum(estimate(scenario, scenario.horizon_days).values()) < most_events)
    base = simulate(scenario, replication).summary
    for subset in subsets:
        relaxed = simulate(scenario, replication, relaxed=subset).summary
        assert_never_worse(base, relaxed, subset, scenario)


@settings(
    max_examples=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(text=random_scenario(), replication=st.integers(0, 50))
def test_relaxing_any_set_of_layers_never_makes_a_site_worse(text: str, replication: int) -> None:
    check_subsets(text, replication, 4_000, SOME_SUBSETS)


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(text=random_scenario(), replication=st.integers(0, 50))
def test_relaxing_never_makes_worse_many_more_examples(text: str, replication: int) -> None:
    check_subsets(text, replication, 20_000, ALL_SUBSETS)


def test_a_liquid_gpu_relaxed_cooling_lets_in_takes_no_air_gpus_place() -> None:
    # s1: 16,921 air GPUs (1.2 kW) and one liquid GPU (1.7 kW), an air hall of 5 MW from day
    # 129, crews of 100 GPUs a week. Relaxed cooling lets the liquid GPU into the air hall,
    # but it comes last in the dispatch order (most_gpus: least drawing first), so the
    # space goes to air GPUs first, and crews install it after the last air GPU, as in the
    # base run: relaxing cooling changes nothing for s1. (When placement put the most
    # demanding cooling first, it took an air GPU's place in a batch: 512 GPU-hours worse,
    # the anomaly this case was found for.)
    scenario = load_text(
        (Path(__file__).parent / "relaxation_cases" / "batch_anomaly.toml").read_text()
    )
    one_gpu = 1 / scenario.sites[1].installation.rate_per_day
    base = simulate(scenario, 26)
    relaxed = simulate(scenario, 26, relaxed={"cooling"})
    for result in (base, relaxed):
        installed = {
            e.object: e.time_days
            for e in result.events
            if e.site == "s1" and e.event == "gpus_installed"
        }  # the last batch of each lot
        assert installed["lot0"] == pytest.approx(installed["lot2"] + one_gpu)
    assert relaxed.summary[1].idle_gpu_hours == base.summary[1].idle_gpu_hours
    assert relaxed.summary[1].all_running_days == base.summary[1].all_running_days
    assert_never_worse(base.summary, relaxed.summary, "cooling", scenario)


def test_relaxed_cooling_that_lets_a_roomier_lot_in_first_never_makes_a_site_worse() -> None:
    # Found by the slow suite. s1's liquid GPUs (1.7 kW) arrive first; relaxed cooling lets
    # crews install them in its 17 MW air hall, where air GPUs (1.2 kW) arrive later. When
    # installed GPUs kept their places, the air GPUs no longer fitted: 5,895 GPUs sat idle
    # from day 457 to 858 instead of 4,484 (+3.9 M GPU-hours). Now the air GPUs, first in
    # the dispatch order, are installed and take the space; the liquid ones stand idle.
    scenario = load_text(
        (Path(__file__).parent / "relaxation_cases" / "cooling_crowding.toml").read_text()
    )
    base = simulate(scenario, 48).summary
    relaxed = simulate(scenario, 48, relaxed={"cooling"}).summary
    assert_never_worse(base, relaxed, "cooling", scenario)


@pytest.mark.parametrize("name", ["ashburn", "abilene", "columbus", "memphis", "santa_clara"])
def test_relaxing_each_layer_never_makes_a_bundled_site_worse(name: str) -> None:
    spec = dcsim.load(SITES / f"{name}.toml")
    for replication in (1,):  # more in the slow suite's random scenarios
        base = simulate(spec, replication).summary
        for layer in NAMES:
            relaxed = simulate(spec, replication, relaxed={layer}).summary
            assert_never_worse(base, relaxed, layer, spec)


def test_relaxing_everything_leaves_nothing_idle_but_nothing_runs_before_delivery() -> None:
    # With every layer relaxed, GPUs run the moment they arrive.
    spec = dcsim.load(SITES / "columbus.toml")
    result = simulate(spec, 0, relaxed=set(NAMES))
    assert result.summary[0].idle_gpu_hours == 0
    deliveries = [e.time_days for e in result.events if e.event == "lot_delivered"]
    assert result.summary[0].all_running_days == max(deliveries)


# ------------------------------------------------------------ each layer, by hand
# Site A (tests/support.py): request on day 0, energized on day 160, transformers in
# service on days 141 and 142, the only hall commissioned on day 200, 20,000 GPUs
# (20 MW IT) on day 150, installed 200-220 at 1,000 a day.


def _summary(tmp_path, site: str, relaxed: set[str], study: str = "100 days") -> SiteRecord:
    spec = dcsim.load(scenario_file(tmp_path, site, study=study))
    return simulate(spec, relaxed=relaxed).summary[0]


def test_relaxed_grid_and_transformers_change_nothing_where_the_building_binds(tmp_path) -> None:
    # Power arrives (160) before the hall (200): power is never what holds the GPUs.
    base = _summary(tmp_path, SITE_A, set())
    for layers in ({"grid"}, {"transformers"}, {"grid", "transformers"}):
        relaxed = _summary(tmp_path, SITE_A, layers)
        assert relaxed.idle_gpu_hours == base.idle_gpu_hours == 70 * 20000 * HOURS
        assert relaxed.all_running_days == 220
    # But power is there from day 0 when both grid path layers are relaxed.
    assert _summary(tmp_path, SITE_A, {"grid", "transformers"}).first_power_days == 0
    # Relaxing the grid alone leaves the transformers (in service on day 141) binding it.
    assert _summary(tmp_path, SITE_A, {"grid"}).first_power_days == 141


def test_relaxed_transformers_release_a_site_they_hold(tmp_path) -> None:
    # Site A with a 100-day build (hall commissioned on day 100) and a 400-day study:
    # agreement on day 410, grid on 460; transformers ordered at 410 are in service on
    # 441 (50 MW, 40 MW IT: enough for the 20 MW lot) and 442. The lot arrives on 150
    # and is installed as one batch on 170.
    site = SITE_A.replace('construction_time = "200 days"', 'construction_time = "100 days"')
    study = "400 days"
    # Base: from 150 the grid's shortfall ends last (460): 310 days of grid.
    base = _summary(tmp_path, site, set(), study=study)
    assert base.all_running_days == 460
    assert base["idle_gpu_hours_grid"] == pytest.approx(310 * 20000 * HOURS)
    # Transformers relaxed: the grid still binds until 460.
    assert _summary(tmp_path, site, {"transformers"}, study=study).all_running_days == 460
    # Grid relaxed: the transformers hold the GPUs until the first unit, 150-441.
    no_grid = _summary(tmp_path, site, {"grid"}, study=study)
    assert no_grid.all_running_days == 441
    assert no_grid["idle_gpu_hours_transformers"] == pytest.approx(291 * 20000 * HOURS)
    # Both: only installation is left, 150-170.
    both = _summary(tmp_path, site, {"grid", "transformers"}, study=study)
    assert both.all_running_days == 170
    assert both.idle_gpu_hours == pytest.approx(20 * 20000 * HOURS)
    assert both["idle_gpu_hours_installation"] == both.idle_gpu_hours


def test_relaxed_cooling_skips_the_retrofit_wait_and_keeps_the_hall(tmp_path) -> None:
    # Site B: the liquid lot arrives on day 120 into an air hall, whose retrofit takes
    # it offline until 180; installation takes a day: all run on 181 (61 days idle).
    # With cooling relaxed the hall hosts the lot at once: installed by 121.
    base = _summary(tmp_path, SITE_B, set(), study="1000 days")
    relaxed = _summary(tmp_path, SITE_B, {"cooling"}, study="1000 days")
    assert base.all_running_days == 181
    assert relaxed.all_running_days == 121
    assert relaxed.idle_gpu_hours == pytest.approx(1 * 10000 * HOURS)
    assert relaxed["idle_gpu_hours_installation"] == relaxed.idle_gpu_hours
    # The retrofit still happens (its events are logged), it just no longer binds.
    spec = dcsim.load(scenario_file(tmp_path, SITE_B, study="1000 days"))
    events = [(e.time_days, e.event) for e in simulate(spec, relaxed={"cooling"}).events]
    retrofit = [(t, e) for t, e in events if e.startswith("retrofit_")]
    assert retrofit == [(120, "retrofit_started"), (180, "retrofit_completed")]


def test_relaxed_building_and_installation(tmp_path) -> None:
    # Site A with the building relaxed: the lot is installed as one batch on arrival
    # (150-170); the grid (160) is short too but its shortfall ends first, so the
    # 20 days are installation's; all run on 170.
    building = _summary(tmp_path, SITE_A, {"building"})
    assert building.all_running_days == 170
    assert building["idle_gpu_hours_installation"] == pytest.approx(20 * 20000 * HOURS)
    assert building.idle_gpu_hours == building["idle_gpu_hours_installation"]
    # Installation relaxed too: every GPU runs the moment power comes, on day 160.
    both = _summary(tmp_path, SITE_A, {"building", "installation"})
    assert both.all_running_days == 160
    assert both.idle_gpu_hours == pytest.approx(10 * 20000 * HOURS)
    # Installation alone: the GPUs run as soon as the hall stands, on day 200.
    alone = _summary(tmp_path, SITE_A, {"installation"})
    assert alone.all_running_days == 200
    assert alone.idle_gpu_hours == pytest.approx(50 * 20000 * HOURS)


def test_unknown_layer_is_refused() -> None:
    spec = dcsim.load(SITES / "ashburn.toml")
    with pytest.raises(dcsim.DcsimError, match="unknown layer 'gird'"):
        simulate(spec, relaxed={"gird"})


def test_a_layer_crosses_to_worker_processes_by_name() -> None:
    import pickle

    for layer in LAYERS:
        assert pickle.loads(pickle.dumps(layer)) is BY_NAME[layer.name]
