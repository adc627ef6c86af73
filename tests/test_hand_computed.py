"""Sites with every duration fixed, checked against timelines worked out by hand.

Shared catalog (in tests/support.py): liquid cooling has PUE 1.25, air 1.5; GPU model G draws
1 kW of IT power and needs liquid cooling; it costs 8760 USD over a 365-day
life, so one idle GPU costs 24 USD a day. Transformers: one production line,
one unit a day, 20 days of design, 5 of transport, 5 of installation.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from dcsim.input.load import load
from dcsim.model.simulation import simulate
from dcsim.model.totals import by_year, integrate
from tests.support import HOURS, SITE_A, SITE_B, scenario_file


def test_grid_site_timeline_binding_layers_and_idle_hours(tmp_path: Path) -> None:
    # Day 0: request; study 0-100; agreement at 110; energized at 110 + 50 = 160.
    # Transformers ordered at 110: designed by 130, built 131 and 132, delivered
    # 136 and 137, in service 141 and 142 (100 MW). Hall commissioned at 200.
    # Lot of 20,000 GPUs (20 MW IT) arrives on day 150 (2025-05-31).
    # Installation needs the hall: 200 -> 220 at 1,000 GPUs a day. All run at 220.
    # Binding: 150-160 grid and building both tight; building's shortfall ends
    # last (200 vs 160), so building. 160-200 building. 200-220 installation.
    result = simulate(load(scenario_file(tmp_path, SITE_A)))
    summary = result.summary[0]
    assert summary["first_power_days"] == 160
    assert summary["request_to_agreement_days"] == 110
    assert summary["request_to_energization_days"] == 160
    assert summary["transformer_lead_time_days"] == pytest.approx((26 + 27) / 2)
    assert summary["all_running_days"] == 220
    assert summary["idle_gpu_hours_building"] == pytest.approx(50 * 20000 * HOURS)
    assert summary["idle_gpu_hours_installation"] == pytest.approx(20 * 20000 * HOURS)
    assert summary["idle_gpu_hours"] == pytest.approx(70 * 20000 * HOURS)
    for layer in ("grid", "transformers", "onsite", "cooling"):
        assert summary[f"idle_gpu_hours_{layer}"] == 0
    assert summary["idle_cost_usd"] == pytest.approx(70 * 20000 * 24.0)
    assert summary["gpus_idle_at_horizon"] == 0

    changes = [(e.time_days, e.detail) for e in result.events if e.event == "binding_layer_changed"]
    assert changes == [
        (150, "none -> building"),
        (200, "building -> installation"),
        (220, "installation -> none"),
    ]
    in_service = [e.time_days for e in result.events if e.event == "transformer_in_service"]
    assert in_service == [141, 142]
    assert [e.time_days for e in result.events if e.event == "hall_commissioned"] == [200]


def test_retrofit_site_cooling_then_installation(tmp_path: Path) -> None:
    # The grid study takes 1,000 days: no grid within the 600-day horizon.
    # Owned transformers in service on day 5, but power is min(grid, transformers)
    # plus on-site: first power when both turbine blocks come online on day 50
    # (30 MW, 20 MW IT at the air hall's PUE of 1.5: enough for 10 MW of GPUs).
    # The air hall is commissioned on day 100. The liquid-cooled lot arrives on
    # day 120 (2025-05-01) and triggers the retrofit, which takes the whole hall
    # offline until day 180. Installation then takes one day: all run on day 181.
    # Binding: 120-180 cooling (the only tight layer), 180-181 installation.
    result = simulate(load(scenario_file(tmp_path, SITE_B, study="1000 days")))
    summary = result.summary[0]
    assert summary["first_power_days"] == 50
    assert summary["all_running_days"] == 181
    assert summary["idle_gpu_hours_cooling"] == pytest.approx(60 * 10000 * HOURS)
    assert summary["idle_gpu_hours_installation"] == pytest.approx(1 * 10000 * HOURS)
    assert summary["idle_gpu_hours"] == pytest.approx(61 * 10000 * HOURS)
    assert math.isnan(summary["request_to_energization_days"])  # never energized
    retrofit = [(e.time_days, e.event) for e in result.events if e.process == "cooling"]
    assert retrofit == [(120, "retrofit_started"), (180, "retrofit_completed")]


def test_bridge_power_binds_when_it_is_what_releases_the_gpus(tmp_path: Path) -> None:
    # As site B, but the hall is liquid from the start and the turbines arrive
    # late: permit 150 + lead 100 = day 250. Lot on site at 120, installed 121.
    # From 121 only power is tight (grid and on-site generation both at zero);
    # both stop being tight on day 250, when on-site capacity rises: on-site binds.
    # 120-121: installation, grid and onsite tight; onsite's shortfall ends last.
    site = (
        SITE_B.replace('cooling = "air"', 'cooling = "liquid"')
        .replace('permit_time = "20 days"', 'permit_time = "150 days"')
        .replace('lead_time = "30 days"', 'lead_time = "100 days"')
    )
    site = site[: site.index("[[sites.b.retrofits]]")] + site[site.index("[[sites.b.lots]]") :]
    result = simulate(load(scenario_file(tmp_path, site, study="1000 days")))
    summary = result.summary[0]
    assert summary["first_power_days"] == 250
    assert summary["all_running_days"] == 250
    assert summary["idle_gpu_hours_onsite"] == pytest.approx(130 * 10000 * HOURS)
    assert summary["idle_gpu_hours"] == pytest.approx(130 * 10000 * HOURS)


def test_existing_service_and_a_queue_already_full_at_the_start(tmp_path: Path) -> None:
    # Site A again, with 10 MW of service (and its substation) in place at the start
    # and two requests already in line for the region's single study engineer (100
    # days each): the site's study starts on day 200, its agreement is signed on
    # day 310, the grid energizes 50 days later (360); transformers ordered at 310
    # are in service on days 341 and 342.
    # First power on day 0 (the existing 10 MW: 8 MW IT at PUE 1.25).
    # The lot (day 150, 20 MW IT) is installed 200-220 once the hall stands; then
    # 8,000 GPUs run on the existing service and 12,000 wait for more power.
    # 150-200 building (power is not used up: nothing runs yet); 200-220 installation;
    # 220-360 grid and transformers are both short, the transformers' shortfall ends
    # at 341 and the grid's at 360: the grid binds. All run on day 360.
    site = SITE_A.replace('region = "r"', 'region = "r"\nexisting = "10 MW"')
    path = scenario_file(tmp_path, site)
    path.write_text(
        path.read_text().replace(
            'background_size = "1 MW"', 'background_size = "1 MW"\ninitial_backlog = 2'
        )
    )
    spec = load(path)
    assert spec.sites[0].interconnection.existing_mw == 10
    result = simulate(spec)
    summary = result.summary[0]
    assert summary["queue_wait_days"] == 200
    assert summary["request_to_agreement_days"] == 310
    assert summary["first_power_days"] == 0
    assert summary["all_running_days"] == 360
    assert summary["idle_gpu_hours_building"] == pytest.approx(50 * 20000 * HOURS)
    assert summary["idle_gpu_hours_installation"] == pytest.approx(20 * 20000 * HOURS)
    assert summary["idle_gpu_hours_grid"] == pytest.approx(140 * 12000 * HOURS)
    assert summary["idle_gpu_hours_transformers"] == 0
    backlog = [e for e in result.events if e.background and e.event == "request_submitted"]
    assert [e.time_days for e in backlog] == [0, 0]


def test_relaxing_onsite_means_all_blocks_at_once_not_unlimited_power(tmp_path: Path) -> None:
    # Site A has no on-site generation: making that layer non-binding must change
    # nothing (unlimited on-site power would wrongly remove the grid and transformers).
    spec = load(scenario_file(tmp_path, SITE_A))
    base = simulate(spec).summary[0]
    relaxed = simulate(spec, relaxed=frozenset({"onsite"})).summary[0]
    assert relaxed["idle_gpu_hours"] == base["idle_gpu_hours"]
    assert relaxed["first_power_days"] == base["first_power_days"] == 160
    # Site B has two 15 MW blocks: relaxed, both are online on day 0, and no more.
    spec = load(scenario_file(tmp_path, SITE_B, study="1000 days"))
    result = simulate(spec, relaxed=frozenset({"onsite"}))
    assert result.summary[0]["first_power_days"] == 0
    assert max(row.power_mw for row in result.snapshots["b"]) == 30


def test_a_site_with_no_timeseries_rows_sums_to_nothing() -> None:
    totals = integrate([], [], 365.0, [])
    assert totals.idle_gpu_hours == 0.0 and totals.gpu_hours_running == 0.0
    assert by_year([], [], 365.0, dt.date(2025, 1, 1)) == [(2025, (0.0,) * 8, 0.0, 0.0)]
