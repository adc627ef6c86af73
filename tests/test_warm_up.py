"""A region queue that warms up before the start date: the site waits behind what is left.

Region r (tests/support.py): one study engineer, a fixed 100-day study, no background
arrivals; here three 1 MW background requests are in line when the queue opens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dcsim
from dcsim.model.simulation import simulate
from tests.support import SITE_A, scenario_file


def _run(tmp_path: Path, **region: object):
    spec = dcsim.load(scenario_file(tmp_path, SITE_A))
    spec = dcsim.override(spec, {f"regions.r.{k}": v for k, v in region.items()})
    return simulate(spec)


@pytest.mark.parametrize(
    ("warm_up", "wait"),
    [
        # Opened on day 0: the backlog is studied 0-100, 100-200, 200-300; the site at 300.
        ("0 days", 300.0),
        # Opened on day -150: studies -150..-50, -50..50, 50..150; the site waits 150 days.
        ("150 days", 150.0),
        # Opened on day -400: the backlog is gone by day -100; the site starts at once.
        ("400 days", 0.0),
    ],
)
def test_the_site_waits_for_the_backlog_the_warm_up_leaves(tmp_path: Path, warm_up: str,
                                                           wait: float) -> None:  # fmt: skip
    result = _run(tmp_path, initial_backlog=3, warm_up=warm_up)
    assert result.summary[0].queue_wait_days == pytest.approx(wait)
    started = [e.time_days for e in result.events
               if e.event == "study_started" and e.site == "r"]  # fmt: skip
    opened = -float(warm_up.split()[0])
    assert started == [opened, opened + 100, opened + 200]  # warm-up rows keep their day


def test_headroom_is_what_the_file_says_at_the_start_date(tmp_path: Path) -> None:
    # The three 1 MW background agreements signed during the warm-up do not eat into the
    # 100 MW of headroom the file gives at the start: site A's 100 MW needs no upgrade.
    result = _run(tmp_path, initial_backlog=3, warm_up="400 days", headroom="100 MW")
    upgrades = [e for e in result.events if e.event == "network_upgrade_started"]
    assert upgrades == []
    # Without the warm-up the same backlog is agreed after the start and uses 3 MW of it.
    late = _run(tmp_path, initial_backlog=3, headroom="100 MW")
    assert [e.site for e in late.events if e.event == "network_upgrade_started"] == ["a"]


def test_a_warm_up_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    spec = dcsim.load(scenario_file(tmp_path, SITE_A))
    with pytest.raises(dcsim.DcsimError, match="at most 50 years"):
        dcsim.override(spec, {"regions.r.warm_up": "51 years"})
