"""Invariants checked at every recorded instant of randomized runs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcsim.model.events import ALL_EVENTS
from dcsim.model.layers import BY_NAME, LAYERS
from dcsim.model.simulation import TIMESERIES_COLUMNS, simulate
from tests.support import load_text, random_scenario


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=random_scenario(), replication=st.integers(0, 50))
def test_invariants_hold_at_every_instant(text: str, replication: int) -> None:
    scenario = load_text(text)
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
            # Displaced GPUs are installed GPUs that stand idle (no space for them).
            assert 0 <= row.gpus_displaced <= row.gpus_installed - row.gpus_running
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
