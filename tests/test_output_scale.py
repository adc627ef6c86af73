"""``output_scale``: a market's output times a factor, its lines with it, its build time kept.

The what-if a planner means by "more factories": more units finished a year, each no
slower. (More ``lines`` alone, at the same output, makes every unit slower: the lever
the next step once offered and that made sites worse.) Proven by hand, under
hypothesis (more output never delays an order; less never hurries one), and on the
bundled files (the next step's levers never make their site worse, same random numbers).
"""

from __future__ import annotations

import math
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.cli.common import parse_sets
from dcsim.errors import SpecError
from dcsim.input.dump import to_document
from dcsim.input.validate_catalog import scale_supply
from dcsim.model.layers import LAYERS
from dcsim.model.simulation import simulate
from dcsim.output.next_step import levers
from tests.support import SITES, batch_slack
from tests.support import market_day as day
from tests.support import market_supply as supply
from tests.support import order_leads as leads

ORDERS = st.lists(st.integers(0, 200), min_size=1, max_size=12)


def test_twice_the_output_is_twice_the_lines_at_the_same_build_time_by_hand() -> None:
    # One 10-day line; four units ordered on day 0: done on days 10, 20, 30, 40.
    # Twice the output: two 10-day lines: 10, 10, 20, 20. The step on day 25 (two lines)
    # doubles to four lines from then on.
    base = supply(lines=1, output_per_day=0.1, output_steps=((day(25), 0.2),))
    doubled = scale_supply(base, 2.0)
    assert (doubled.lines, doubled.output_per_day) == (2, 0.2)
    assert doubled.output_steps == ((day(25), 0.4),) and doubled.build_time == base.build_time
    assert leads(base, [0, 0, 0, 0]) == pytest.approx([10, 20, 30, 35])
    assert leads(doubled, [0, 0, 0, 0]) == pytest.approx([10, 10, 20, 20])
    # 1.6 times one line: still one line (whole lines), each unit 6.25 days, not longer.
    assert leads(scale_supply(base, 1.6), [0, 0]) == pytest.approx([6.25, 12.5])
    # Half of three lines: two (never fewer than the output needs), each 13.3 days.
    halved = scale_supply(supply(lines=3, output_per_day=0.3), 0.5)
    assert halved.lines == 2 and halved.build_time == pytest.approx(2 / 0.15)


@settings(max_examples=80, deadline=None)
@given(
    orders=ORDERS,
    lines=st.integers(1, 6),
    scale=st.floats(1.0, 4.0),
    step_day=st.integers(0, 150),
)
def test_more_output_never_delays_an_order_and_less_never_hurries_one(
    orders: list[int], lines: int, scale: float, step_day: int
) -> None:
    base = supply(lines=lines, output_per_day=lines / 10,
                  output_steps=((day(step_day), (lines + 2) / 10),))  # fmt: skip
    ordered = [float(t) for t in sorted(orders)]
    before = leads(base, ordered)
    more = leads(scale_supply(base, scale), ordered)
    less = leads(scale_supply(base, 1 / scale), ordered)
    for was, sooner, later in zip(before, more, less, strict=True):
        assert sooner <= was + 1e-9 <= later + 2e-9


def test_the_key_scales_the_catalog_market_and_is_checked() -> None:
    path = SITES / "ashburn.toml"
    plain = dcsim.load(path).transformer_supply("north_america")
    scaled = dcsim.load(
        path, parse_sets(("transformer_supplies.north_america.output_scale=1.5",))
    ).transformer_supply("north_america")
    assert scaled.lines == math.floor(plain.lines * 1.5)
    assert scaled.output_per_day == pytest.approx(1.5 * plain.output_per_day)
    assert [r for _, r in scaled.output_steps] == pytest.approx(
        [1.5 * r for _, r in plain.output_steps]
    )
    with pytest.raises(SpecError) as caught:
        dcsim.load(path, parse_sets(("transformer_supplies.north_america.output_scale=-2",)))
    assert "output_scale" in str(caught.value)


@pytest.mark.parametrize("name", ["portfolio", "abilene", "memphis", "ashburn"])
def test_no_lever_the_next_step_offers_makes_its_site_worse(name: str) -> None:
    # Same replication, same random numbers: a lever that buys nothing back is a poor
    # suggestion; one that loses GPU-hours is a wrong one.
    path = SITES / f"{name}.toml"
    scenario = dcsim.load(path)
    spec = to_document(scenario)
    base = {r.site: r for r in simulate(scenario, 0).summary}
    offered = {setting: site.name for site in scenario.sites for layer in LAYERS
               for _, setting in levers(spec, site.name, layer.name)}  # fmt: skip
    for setting, site_name in offered.items():
        changed = dcsim.load(path, parse_sets((setting,)))
        after = {r.site: r for r in simulate(changed, 0).summary}
        site = next(s for s in scenario.sites if s.name == site_name)
        hours, _ = batch_slack(site)
        was, now = base[site_name].idle_gpu_hours, after[site_name].idle_gpu_hours
        assert now <= was * (1 + 1e-9) + hours, (shlex.quote(setting), was, now)
