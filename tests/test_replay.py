"""A site rerun from its tape of changes is the site the simulation gives, for every relaxation.

The attribution relies on it: it simulates each replication once and replays
each site's tape with every subset of layers relaxed (dcsim.model.site_core).
"""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.input.budget import estimate
from dcsim.input.overrides import with_run_settings
from dcsim.input.spec import Scenario
from dcsim.model.layers import BY_NAME, LAYERS, POWER_LAYERS, Layer
from dcsim.model.simulation import simulate
from dcsim.model.site_core import SiteCore, Tape, replay
from tests.support import (
    HOURS,
    SITE_A,
    SITES,
    every_subset,
    load_text,
    random_scenario,
    scenario_file,
    subset_family,
)

SUBSETS = subset_family(LAYERS, empty=True)
ALL_SUBSETS = every_subset(LAYERS, empty=True)
POWER_BITS = sum(layer.bit for layer in POWER_LAYERS)


def check_replays_match(
    scenario: Scenario, replication: int, subsets: list[frozenset[Layer]] = SUBSETS
) -> None:
    """Every subset of the family: the tape is the base run's, a full replay gives the simulated rows,
    and the lean replay the attribution uses gives the simulated idle GPU-hours."""
    base = simulate(scenario, replication)
    horizon = scenario.horizon_days
    for subset in subsets:
        relaxed = simulate(scenario, replication, relaxed=subset)
        hidden = sum(layer.bit for layer in subset)
        for spec, record in zip(scenario.sites, relaxed.summary, strict=True):
            name, tape = spec.name, base.tapes[spec.name]
            # Relaxing changes no process: the changes are the same in every run.
            assert relaxed.tapes[name] == tape, (subset, name)
            full = replay(SiteCore(scenario, spec, subset), tape, horizon)
            assert full.timeseries == relaxed.snapshots[name], (subset, name)
            assert full.first_power_at == _or_none(record.first_power_days)
            assert full.all_running_at == _or_none(record.all_running_days)
            lean = replay(SiteCore(scenario, spec, subset, rows=False), tape, horizon)
            assert lean.idle_gpu_hours(horizon) == pytest.approx(record.idle_gpu_hours, rel=1e-9)
            # The lean replay's power layers tight while GPUs idle are among the full row's.
            tight = 0
            for row in relaxed.snapshots[name]:
                if row.gpus_idle:
                    tight |= row.tight
            assert lean.power_tight & ~(tight & POWER_BITS) == 0, (subset, name)
            assert lean.power_tight & hidden == 0


def _or_none(day: float) -> float | None:
    return None if math.isnan(day) else day


def test_replays_match_the_simulation_on_a_bundled_site() -> None:
    # Memphis: grid, transformers, on-site blocks with outages, three lots, several halls;
    # four years cover its build-out and hundreds of outages (ten take twice as long).
    spec = with_run_settings(dcsim.load(SITES / "memphis.toml"), years=4)
    check_replays_match(spec, replication=1)


@pytest.mark.slow
def test_replays_match_the_simulation_on_a_bundled_site_for_every_subset() -> None:
    check_replays_match(dcsim.load(SITES / "abilene.toml"), 0, ALL_SUBSETS)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(text=random_scenario(), replication=st.integers(0, 50))
def test_replays_match_the_simulation_on_random_scenarios(text: str, replication: int) -> None:
    scenario = load_text(text)
    assume(sum(estimate(scenario, scenario.horizon_days).values()) < 4_000)
    check_replays_match(scenario, replication)


def test_the_tape_and_its_replays_worked_out_by_hand(tmp_path: Path) -> None:
    # Site A (tests/support.py): transformers in service on days 141 and 142, the lot on
    # site on 150, the grid energized on 160, the hall commissioned on 200. The crews,
    # not on the tape, install the one batch of 20,000 GPUs 200-220 at 1,000 a day.
    spec = dcsim.load(scenario_file(tmp_path, SITE_A))
    result = simulate(spec)
    tape = result.tapes["a"]
    assert tape == [
        (141.0, "set_power", ("transformers", 50.0)),
        (142.0, "set_power", ("transformers", 100.0)),
        (150.0, "deliver", (0,)),
        (160.0, "set_power", ("grid", 100.0)),
        (200.0, "commission", (0,)),
    ]
    site, horizon = spec.sites[0], spec.horizon_days

    def idle_days(*names: str) -> float:
        core = replay(SiteCore(spec, site, {BY_NAME[n] for n in names}, rows=False), tape, horizon)
        return core.idle_gpu_hours(horizon) / (20000 * HOURS)

    assert idle_days() == pytest.approx(70)  # 150-220
    assert idle_days("installation") == pytest.approx(50)  # 150-200: runs when the hall stands
    assert idle_days("building") == pytest.approx(20)  # installed 150-170 on arrival
    assert idle_days("building", "installation") == pytest.approx(10)  # power on 160
    assert idle_days(*(layer.name for layer in LAYERS)) == 0
    # With rows kept, the crews' batch ends on day 220, when all run.
    full = replay(SiteCore(spec, site), tape, horizon)
    assert full.all_running_at == 220 and full.first_power_at == 160  # grid and transformers


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), subset=st.sampled_from(ALL_SUBSETS))
def test_the_order_of_changes_within_an_instant_does_not_matter(seed: int, subset) -> None:
    # A site settles once its instant is over. Memphis's changes, moved to the end of
    # their quarter so that many share an instant, then interleaved at random (keeping
    # the order of changes to one object: a hall's retrofit starts before it ends),
    # give the same timeseries.
    spec = dcsim.load(SITES / "memphis.toml")
    site, horizon = spec.sites[0], spec.horizon_days
    coarse = [(math.ceil(day / 90) * 90.0, method, args)
              for day, method, args in simulate(spec, 0).tapes["memphis"]]  # fmt: skip
    shuffled = _interleave_within_instants(coarse, site.halls, random.Random(seed))
    # Instants with changes to several objects exist, so the order can be changed.
    instants = [len(list(group)) for _, group in itertools.groupby(coarse, key=lambda c: c[0])]
    assert max(instants) >= 3
    assert (
        replay(SiteCore(spec, site, subset), shuffled, horizon).timeseries
        == replay(SiteCore(spec, site, subset), coarse, horizon).timeseries
    )


def _interleave_within_instants(tape: Tape, halls, rng: random.Random) -> Tape:
    def target(method: str, args: tuple[object, ...]) -> object:
        first = args[0]
        if method == "commission":
            return ("hall", halls[first].name)
        if method in ("start_retrofit", "complete_retrofit"):
            return ("hall", first)
        return (method, first)

    out: Tape = []
    for _, group in itertools.groupby(tape, key=lambda change: change[0]):
        queues: dict[object, list] = {}
        for change in group:
            queues.setdefault(target(change[1], change[2]), []).append(change)
        while queues:
            key = rng.choice(sorted(queues, key=repr))
            out.append(queues[key].pop(0))
            if not queues[key]:
                del queues[key]
    return out


def test_a_change_a_site_does_not_make_is_refused() -> None:
    spec = dcsim.load(SITES / "memphis.toml")
    core = SiteCore(spec, spec.sites[0])
    with pytest.raises(ValueError, match="not a change of a site: 'install'"):
        core.apply("install", (0, 1))
