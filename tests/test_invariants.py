"""Invariants checked at every recorded instant of randomized runs."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcsim.input.load import load
from dcsim.model.events import ALL_EVENTS
from dcsim.model.layers import BY_NAME, LAYERS
from dcsim.model.simulation import TIMESERIES_COLUMNS, simulate

CATALOG = """
[cooling.air]
level = 0
max_rack_power = "25 kW"
pue = 1.5

[cooling.liquid]
level = 1
max_rack_power = "120 kW"
pue = 1.2

[gpus.H]
it_power = "1.2 kW"
cooling = "air"
price = "25000 USD"

[gpus.G]
it_power = "1.7 kW"
cooling = "liquid"
price = "40000 USD"

[regions.r]
discipline = "DISCIPLINE"
study_engineers = 2
cluster_window = "180 days"
phases = [
  { name = "one", duration = { dist = "exponential", mean = "120 days" }, withdrawal = 0.3 },
  { name = "two", duration = { dist = "uniform", low = "30 days", high = "200 days" }, withdrawal = 0.2 },
]
agreement_time = { dist = "triangular", low = "10 days", mode = "30 days", high = "90 days" }
energization_time = { dist = "lognormal", median = "200 days", sigma = 0.4 }
headroom = "HEADROOM"
network_upgrade_time = { dist = "empirical", values = ["100 days", "300 days", "600 days"] }
background_rate = "BGRATE"
background_size = { dist = "lognormal", median = "80 MW", sigma = 0.5 }

[transformer_supplies.t]
output = "20 units/year"
lines = 4
design_time = { dist = "uniform", low = "10 days", high = "60 days" }
transport_time = "14 days"
installation_time = { dist = "uniform", low = "5 days", high = "20 days" }
background_rate = "TXRATE"
initial_backlog = 10
"""

days = st.integers(min_value=0, max_value=900)


def _date(day: int) -> str:
    return (dt.date(2025, 1, 1) + dt.timedelta(days=day)).isoformat()


@st.composite
def sites(draw: st.DrawFn, name: str) -> str:
    lines = [
        f"[sites.{name}]",
        "start_date = 2025-01-01",
        f"[sites.{name}.interconnection]",
        f'request = "{draw(st.integers(10, 400))} MW"',
        f"request_date = {_date(draw(days))}",
        'region = "r"',
        f"[sites.{name}.construction]",
        f"crews = {draw(st.integers(1, 2))}",
        f"[sites.{name}.substation]",
        f"transformers = {draw(st.integers(1, 4))}",
        f'rating = "{draw(st.integers(20, 150))} MVA"',
    ]
    policy = draw(st.sampled_from(["at_request", "at_agreement", "owned"]))
    lines.append(f'order_policy = "{policy}"')
    if policy == "owned":
        lines.append(f"delivery = {_date(draw(days))}")
    hall_count = draw(st.integers(1, 3))
    for h in range(hall_count):
        lines += [
            f"[[sites.{name}.halls]]",
            f'name = "h{h}"',
            f'it_power = "{draw(st.integers(5, 120))} MW"',
            f'cooling = "{draw(st.sampled_from(["air", "liquid"]))}"',
            f"construction_start = {_date(draw(days))}",
            'construction_time = { dist = "triangular", low = "100 days",'
            ' mode = "200 days", high = "500 days" }',
        ]
    if draw(st.booleans()):
        at = draw(st.one_of(st.just('"when_needed"'), days.map(_date)))
        lines += [
            f"[[sites.{name}.retrofits]]",
            f'hall = "h{draw(st.integers(0, hall_count - 1))}"',
            'to = "liquid"',
            f"at = {at}",
            'duration = { dist = "uniform", low = "30 days", high = "200 days" }',
            f"offline_share = {draw(st.sampled_from([0.25, 0.5, 1.0]))}",
        ]
    for lot in range(draw(st.integers(1, 3))):
        lines += [
            f"[[sites.{name}.lots]]",
            f'name = "lot{lot}"',
            f"delivery = {_date(draw(days))}",
            f"count = {draw(st.integers(1, 60000))}",
            f'model = "{draw(st.sampled_from(["H", "G"]))}"',
            'delay = { dist = "exponential", mean = "30 days" }',
        ]
    if draw(st.booleans()):
        lines += [
            f"[sites.{name}.onsite]",
            f'block = "{draw(st.integers(5, 60))} MW"',
            f"blocks = {draw(st.integers(1, 4))}",
            'permit_time = { dist = "uniform", low = "30 days", high = "300 days" }',
            'lead_time = "120 days"',
            'block_interval = "30 days"',
        ]
    lines += [
        f"[sites.{name}.installation]",
        f'rate = "{draw(st.integers(100, 20000))} GPU/week"',
        f"batch = {draw(st.integers(1, 5000))}",
        f"[sites.{name}.economics]",
        'depreciation_life = "5 years"',
    ]
    return "\n".join(lines) + "\n"


@st.composite
def scenarios(draw: st.DrawFn) -> str:
    catalog = (
        CATALOG.replace("DISCIPLINE", draw(st.sampled_from(["serial", "cluster"])))
        .replace("HEADROOM", f"{draw(st.integers(0, 2000))} MW")
        .replace("BGRATE", f"{draw(st.integers(0, 20))} requests/year")
        .replace("TXRATE", f"{draw(st.integers(0, 25))} units/year")
    )
    body = "".join(draw(sites(f"s{i}")) for i in range(draw(st.integers(1, 2))))
    return (
        '[scenario]\nname = "random"\nstart_date = 2025-01-01\nhorizon = "6 years"\n'
        f"seed = {draw(st.integers(0, 2**32))}\ncatalog = false\n"
        'transformer_supply = "t"\n\n' + body + catalog
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=scenarios(), replication=st.integers(0, 50))
def test_invariants_hold_at_every_instant(text: str, replication: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.toml"
        path.write_text(text)
        scenario = load(path)
    result = simulate(scenario, replication)
    horizon = scenario.horizon_days

    times = [e.time_days for e in result.events]
    assert times == sorted(times), "event log is time-ordered"
    assert {e.event for e in result.events} <= ALL_EVENTS
    assert all(0 <= t <= horizon for t in times)

    for summary in result.summary:
        rows = result.snapshots[str(summary["site"])]
        tol = 1e-6
        for row in rows:
            assert row.gpus_on_site == row.gpus_running + row.gpus_idle
            assert row.gpus_idle >= 0 and row.gpus_running >= 0
            grid, xfmr, onsite = (row.cap(BY_NAME[n]) for n in ("grid", "transformers", "onsite"))
            power_it = min(grid, xfmr) + onsite
            assert row.running_mw <= power_it + tol, "power layers never exceeded"
            assert row.running_mw <= row.cap(BY_NAME["building"]) + tol, "building never exceeded"
            assert row.running_mw <= row.cap(BY_NAME["installation"]) + tol, (
                "installation never exceeded"
            )
            assert row.gpus_running <= row.gpus_installed <= row.gpus_on_site
            if row.power_mw == 0:
                assert row.gpus_running == 0, "no GPU runs before the site has power"
        # The recorded idle GPU-hours are the integral of the idle timeseries.
        ends = [r.time_days for r in rows[1:]] + [horizon]
        integral = sum(
            r.gpus_idle * (end - r.time_days) * 24 for r, end in zip(rows, ends, strict=True)
        )
        assert abs(float(summary["idle_gpu_hours"]) - integral) <= 1e-9 * max(1.0, integral)
        by_layer = sum(float(summary[layer.idle_column]) for layer in LAYERS)
        assert abs(by_layer - integral) <= 1e-9 * max(1.0, integral)
        assert summary["gpus_idle_at_horizon"] == rows[-1].gpus_idle

    for row in result.timeseries:
        idle = row[TIMESERIES_COLUMNS.index("gpus_idle")]
        binding = row[TIMESERIES_COLUMNS.index("binding_layer")]
        assert (binding != "") == (idle > 0), "a binding layer exactly when GPUs are idle"
