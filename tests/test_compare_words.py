"""What-if tables say what changed: no rows for sites a lever cannot reach, no star on a
rounding speck, no "-0", a share's interval inside 0-100% (and a word when replications are few)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from dcsim.experiments.compare import (
    ADDITIVE,
    COMPARE_COLUMNS,
    KPIS,
    METRICS,
    _all_sites,
    _with_waiting,
    no_difference,
    paired,
    unchanged,
)
from dcsim.output.numbers import (
    big,
    difference,
    energy,
    few_replications_note,
    metric_words,
    number,
    share_interval,
)
from dcsim.output.tables import compare_text
from dcsim.output.whatif_page import compare_table


def _summaries(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three replications of sites a and b; the variant halves a's idle time, leaves b's
    exactly, and moves a's first power by a speck of rounding."""
    rng = np.random.default_rng(seed)
    rows = [{"replication": r, "site": site, **{k: float(rng.uniform(1e6, 1e9)) for k in KPIS}}
            for r in range(3) for site in ("a", "b")]  # fmt: skip
    base = pd.DataFrame(rows)
    base["idle_gpu_hours"] = 1e9 * (1 + 0.01 * base["replication"])
    variant = base.copy()
    a = variant["site"] == "a"
    variant.loc[a, "idle_gpu_hours"] *= 0.5
    variant.loc[a, "first_power_days"] *= 1 + 1e-15
    return base, variant


def _table(seed: int = 1) -> pd.DataFrame:
    base, variant = map(_with_waiting, _summaries(seed))
    rows = paired(base, variant, "halve-a", METRICS)
    rows += paired(_all_sites(base), _all_sites(variant), "halve-a", ADDITIVE)
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def test_a_rounding_speck_is_no_difference_and_gets_no_star() -> None:
    table = _table()
    speck = table[(table["site"] == "a") & (table["metric"] == "first_power_days")].iloc[0]
    assert speck["diff_mean"] == 0 and not speck["distinguishable"]
    idle = table[(table["site"] == "a") & (table["metric"] == "idle_gpu_hours")].iloc[0]
    assert idle["diff_mean"] < 0 and idle["distinguishable"]


def test_a_site_the_variant_left_as_it_was_is_named_not_listed() -> None:
    table = _table()
    same = unchanged(table)
    assert set(table[same]["site"]) == {"b"}
    text = compare_text(table)
    body = text.split("* =")[0]
    assert " a " in body and " b " not in body
    # The printed table shows the headline metrics only: it claims no more than those.
    assert "sites where the variant changed none of these metrics" in text
    assert "(compare.csv has every one): halve-a: b" in text
    assert "did not change at all" not in text
    page = compare_table(table)
    assert "b" not in set(page["site"])
    assert not no_difference(table[table["metric"] == "idle_gpu_hours"]).all()


@given(st.floats(-0.4999, 0.4999))
def test_a_value_that_rounds_to_zero_is_never_minus_zero(value: float) -> None:
    shown = [big(value), number(value, "idle_cost_usd"), energy(value),
             number(value * 3.65, "first_power_days")]  # fmt: skip
    for text in shown:
        assert not text.startswith("-"), shown


def test_a_date_that_moves_by_less_than_a_day_reads_in_days_not_as_zero_years() -> None:
    assert difference(0.21, "first_power_days") == "0.2 days"
    assert difference(-153.44, "all_running_days") == "-153.4 days"
    assert difference(-0.01, "first_power_days") == "0.0 days"
    assert difference(2.5e6, "idle_gpu_hours") == "2.50M"


def test_energy_and_money_metrics_read_in_their_units() -> None:
    assert number(378_770.0, "onsite_energy_mwh") == "378.77 GWh"
    assert number(-2.5e6, "onsite_cost_usd") == "-$2.50M"
    assert number(float("nan"), "onsite_cost_usd") == "-"
    assert metric_words("onsite_energy_mwh") == "on-site energy"
    assert metric_words("stranded_power_mwh") == "stranded power"


def test_a_share_interval_stays_inside_0_to_100_percent_and_few_reps_are_flagged() -> None:
    assert share_interval(0.72, 0.22, 1.22) == "72% [22%, 100%]"
    assert share_interval(0.56, -0.52, 1.65) == "56% [0%, 100%]"
    assert share_interval(0.4, float("nan"), float("nan")) == "40%"
    assert "--reps 30" in few_replications_note(3)
    assert few_replications_note(30) == "" and few_replications_note(None) == ""
