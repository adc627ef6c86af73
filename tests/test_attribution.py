"""Who holds the idle GPU-hours: Shapley values, percentiles, stranded power, lost value."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.experiments.attribute import attribute, shapley
from dcsim.experiments.statistics import percentiles
from dcsim.input.overrides import with_run_settings
from dcsim.model.layers import LAYERS
from dcsim.model.simulation import simulate
from tests.support import (
    HOURS,
    SITE_A,
    SITE_B,
    SITES,
    load_text,
    random_scenario,
    scenario_file,
)

GPUS = 20000
DAY = GPUS * HOURS  # GPU-hours of 20,000 GPUs for a day


def test_shapley_of_a_textbook_game() -> None:
    # Two players who only win together: each gets half.
    values = {0b00: 0.0, 0b01: 0.0, 0b10: 0.0, 0b11: 10.0}
    assert shapley(values, 2) == [5.0, 5.0]


def test_shapley_efficiency_and_dummies_on_a_bundled_site() -> None:
    result = attribute(dcsim.load(SITES / "ashburn.toml"), replications=2, workers=1)
    each = result.per_replication
    for _, group in each.groupby("replication"):
        base = group["base_idle_gpu_hours"].iloc[0]
        assert group["shapley"].sum() == pytest.approx(base, rel=1e-9)
    table = result.table.set_index("layer")
    # No on-site plant and no cooling change at ashburn: relaxing them changes nothing.
    # (Up to float rounding: a millionth of a GPU-hour against billions.)
    assert table.loc["onsite", "shapley"] == pytest.approx(0, abs=1e-6)
    assert table.loc["cooling", "shapley"] == pytest.approx(0, abs=1e-6)
    # The grid holds most of the idle time. The transformers are tight under it and save
    # little alone (the grid is still missing), but relaxing both saves far more than the
    # grid alone: their Shapley value gives them that share of the interaction.
    assert table.loc["grid", "binding_share"] > 0.5
    assert table.loc["transformers", "binding_share"] < 0.5
    assert table.loc["transformers", "shapley_share"] > table.loc["transformers", "alone_share"]
    assert table.loc["grid", "strongest_partner"] == "transformers"


def test_shapley_values_worked_out_by_hand_for_complements(tmp_path: Path) -> None:
    # Site A with a 100-day build (hall on day 100) and a 400-day study: agreement on day
    # 410, grid on 460; transformers ordered then are in service on 441 (first unit: 50 MW,
    # 40 MW IT, enough for the 20 MW lot). The lot arrives on 150, installed as one batch
    # on 170. Idle days of 20,000 GPUs, by relaxed set (g = grid, x = transformers,
    # i = installation; building, cooling and on-site change nothing):
    #   {} 310, g 291, x 310, i 310, gx 20, gi 291, xi 310, gxi 0.
    # Savings v(S) = 310 - idle: v(g) = 19, v(gx) = 290, v(gi) = 19, v(gxi) = 310, else 0.
    # Shapley, weights 1/3 (|S| = 0), 1/6 (|S| = 1), 1/3 (|S| = 2):
    #   grid  = 19/3 + 290/6 + 19/6 + 310/3 = 967/6
    #   xfmr  = 0 + 271/6 + 0 + 291/3       = 853/6
    #   inst  = 0 + 0 + 0 + 20/3            = 40/6     (sum 1860/6 = 310)
    # Pairwise interaction grid + transformers: 290 - 19 - 0 = 271 days.
    site = SITE_A.replace('construction_time = "200 days"', 'construction_time = "100 days"')
    spec = dcsim.load(scenario_file(tmp_path, site, study="400 days"))
    result = attribute(spec, replications=1, workers=1)
    table = result.table.set_index("layer")
    assert table.loc["grid", "shapley"] == pytest.approx(967 / 6 * DAY, rel=1e-9)
    assert table.loc["transformers", "shapley"] == pytest.approx(853 / 6 * DAY, rel=1e-9)
    assert table.loc["installation", "shapley"] == pytest.approx(40 / 6 * DAY, rel=1e-9)
    for dummy in ("onsite", "building", "cooling"):
        assert table.loc[dummy, "shapley"] == 0
    assert table.loc["grid", "alone_saving"] == pytest.approx(19 * DAY, rel=1e-9)
    assert table.loc["transformers", "alone_saving"] == 0
    pairs = result.interactions.set_index(["layer_a", "layer_b"])
    assert pairs.loc[("grid", "transformers"), "interaction"] == pytest.approx(271 * DAY)
    assert table.loc["grid", "criticality"] == 1.0


def test_percentiles_count_dates_not_reached_as_later() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    p10, p50, p80, p90 = percentiles(values)
    assert p10 == pytest.approx(1.4) and p50 == 3.0  # numpy's linear percentiles
    assert math.isnan(p80) and math.isnan(p90), "among the not-reached: empty"
    reached = np.array([5.0, 1.0, 9.0, 3.0, 7.0, 2.0])
    assert list(percentiles(reached)) == list(np.percentile(reached, [10, 50, 80, 90]))


def test_stats_percentiles_are_numpys_on_the_summary_column() -> None:
    result = dcsim.run(dcsim.load(SITES / "memphis.toml"), replications=5, workers=1)
    row = result.stats[result.stats["metric"] == "idle_gpu_hours"].iloc[0]
    expected = np.percentile(result.summary["idle_gpu_hours"], [10, 50, 80, 90])
    assert [row["p10"], row["p50"], row["p80"], row["p90"]] == pytest.approx(list(expected))
    curve = result.scurves[result.scurves["metric"] == "all_running"]
    assert curve["share_reached"].is_monotonic_increasing


def test_stranded_power_worked_out_by_hand(tmp_path: Path) -> None:
    # Site A: 100 MW through grid (day 160) and transformers (141/142): 80 MW IT at PUE
    # 1.25. The 40 MW hall stands from day 200; 20 MW of GPUs, on site since 150, are
    # installed 200-220. Stranded: 200-220 all 40 MW (20 of it for GPUs waiting to be
    # installed), then 20 MW to the 600-day horizon.
    record = simulate(dcsim.load(scenario_file(tmp_path, SITE_A))).summary[0]
    assert record.stranded_power_mwh == pytest.approx(40 * 20 * 24 + 20 * 380 * 24)
    assert record.stranded_power_mwh_not_installed == pytest.approx(20 * 20 * 24)
    assert record.stranded_power_mwh_no_gpus == pytest.approx(40 * 20 * 24 - 20 * 20 * 24
                                                              + 20 * 380 * 24)  # fmt: skip
    assert record.gpu_hours_running == pytest.approx(GPUS * 380 * 24)


def test_stranded_power_waiting_for_cooling_worked_out_by_hand(tmp_path: Path) -> None:
    # Site B (tests/support.py) with its retrofit on day 160 instead of when needed: the air
    # hall (30 MW IT) stands from day 100 on 30 MW of turbines (20 MW IT at PUE 1.5). The
    # liquid-cooled lot (10 MW IT) is on site from day 120 but cannot go into air: 120-160,
    # 10 of the 20 MW stranded wait for cooling and 10 for chips. The retrofit takes the hall
    # offline 160-220; the lot is installed 220-221 (10 MW waiting for installation).
    site = SITE_B.replace('at = "when_needed"', "at = 2025-06-10")
    record = simulate(dcsim.load(scenario_file(tmp_path, site))).summary[0]
    assert record.stranded_power_mwh_cooling == pytest.approx(10 * 40 * 24)
    assert record.stranded_power_mwh_not_installed == pytest.approx(10 * 1 * 24)
    total = 20 * 20 * 24 + 20 * 40 * 24 + 30 * 1 * 24 + 20 * 379 * 24
    assert record.stranded_power_mwh == pytest.approx(total)
    assert record.stranded_power_mwh_no_gpus == pytest.approx(total - 10 * 40 * 24 - 10 * 24)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=random_scenario(), replication=st.integers(0, 20))
def test_stranded_power_splits_into_chips_installation_and_cooling(
    text: str, replication: int
) -> None:
    for record in simulate(load_text(text), replication).summary:
        parts = (record.stranded_power_mwh_no_gpus, record.stranded_power_mwh_not_installed,
                 record.stranded_power_mwh_cooling)  # fmt: skip
        assert min(parts) >= 0
        assert sum(parts) == pytest.approx(record.stranded_power_mwh, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("decline", [0.0, 0.5])
def test_lost_value_worked_out_by_hand(tmp_path: Path, decline: float) -> None:
    # Site A's 20,000 GPUs are idle from day 150 to 220; each GPU-hour is worth $2 at the
    # start, falling by `decline` a year: integral of 2 * (1 - d) ** (t / 365.25) dt.
    spec = dcsim.override(dcsim.load(scenario_file(tmp_path, SITE_A)),
                          {"gpus.G.value_per_gpu_hour": "2 USD/GPU/hour",
                           "gpus.G.value_decline": decline})  # fmt: skip
    record = simulate(spec).summary[0]
    if decline == 0:
        expected = GPUS * 70 * 24 * 2.0
    else:
        k = math.log(1 - decline) / 365.25
        expected = GPUS * 24 * 2.0 * (math.exp(k * 220) - math.exp(k * 150)) / k
    assert record.lost_value_usd == pytest.approx(expected, rel=1e-12)


def test_python_api_returns_dataframes_and_writes_only_when_asked(tmp_path: Path) -> None:
    base = dcsim.load(SITES / "ashburn.toml")
    table = dcsim.compare(base, {"more": {"regions.dominion.headroom": "3000 MW"}},
                          replications=2, workers=1)  # fmt: skip
    assert isinstance(table, pd.DataFrame) and set(table["variant"]) == {"more"}
    assert not list(tmp_path.iterdir())
    out = tmp_path / "cascade"
    steps = dcsim.cascade(base, replications=2, workers=1, out=out)
    assert steps["step"].iloc[0] == 0 and (out / "cascade.csv").exists()
    assert isinstance(dcsim.sweep(base, {"regions.dominion.study_engineers": [2, 4]},
                                  replications=1, workers=1), pd.DataFrame)  # fmt: skip
    shares = dcsim.attribute(base, replications=1, workers=1, out=tmp_path / "att")
    assert set(shares["layer"]) == {layer.name for layer in dcsim.LAYERS}
    written = pd.read_csv(tmp_path / "att" / "attribution.csv")
    assert len(written) == len(shares) and (tmp_path / "att" / "interactions.csv").exists()


def test_attribute_command_end_to_end(tmp_path: Path) -> None:
    from tests.support import run_cli

    out = tmp_path / "att"
    done = run_cli("attribute", SITES / "ashburn.toml", "--reps", "2", "--workers", "2",
                   "--out", out, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "attribution.csv")
    assert {"binding_share", "alone_saving", "shapley", "shapley_ci95_low",
            "shapley_ci95_high", "criticality"} <= set(table.columns)  # fmt: skip
    lines = done.stdout.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))  # under the header
    first = lines[rule + 1].split()
    assert first[0] == "grid", done.stdout  # ranked: the layer with the largest share first
    assert (out / "interactions.csv").exists() and (out / "run.json").exists()


def test_subsets_skipped_as_provably_the_same_are_the_same() -> None:
    # Memphis has grid, transformers and on-site power: every reuse rule gets exercised
    # (in its first four years, when all of them bind).
    spec = with_run_settings(dcsim.load(SITES / "memphis.toml"), years=4)
    quick = attribute(spec, replications=1, workers=1)
    full = attribute(spec, replications=1, workers=1, reuse=False)
    assert full.runs == 2 ** len(LAYERS) and quick.runs < full.runs
    # Copied and replayed results differ by float rounding only (GPU-hours, totals ~1e9).
    pd.testing.assert_frame_equal(quick.per_replication, full.per_replication, atol=1e-3)


def test_printed_shares_never_show_minus_zero() -> None:
    # A rounding speck below zero (a CI bound of -1e-12 of the idle time) prints as 0%.
    from dcsim.output.tables import attribution_text

    row = {"site": "s", "layer": "grid", "base_idle_gpu_hours": 1e9, "binding": 0.0,
           "binding_share": 0.0, "alone_saving": 0.0, "alone_share": -1e-12, "shapley": 3e8,
           "shapley_share": 0.3, "shapley_ci95_low": -1e-3, "shapley_ci95_high": 4e8,
           "criticality": 0.0, "strongest_partner": "", "interaction": 0.0}  # fmt: skip
    nothing = {**row, "layer": "cooling", "alone_share": 5e-17, "shapley": 0.0,
               "shapley_share": 0.0, "shapley_ci95_high": 1e-3}  # fmt: skip
    text = attribution_text(pd.DataFrame([row, nothing]))
    assert "-0%" not in text and "30% [0%, 40%]" in text
    assert "cooling" not in text, "a layer worth nothing is left out, as on the page"
