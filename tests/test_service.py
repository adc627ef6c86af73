"""Interim and flexible grid service: a site energized in part, or non-firm and curtailed,
while the network upgrade for the rest of its request is built.

Proven three ways: timelines worked out by hand, invariants under hypothesis (neither
option ever leaves a site with less grid power at any instant, with the same random
numbers), and, with no upgrade to wait for, the options change nothing, so the queue
theory of tests/test_theory_queue.py holds for them unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.input.distributions import Exponential, Fixed
from dcsim.input.spec import Region, Tranche
from dcsim.model.event_log import Recorder
from dcsim.model.events import EventRow
from dcsim.model.grid_request import GridRequest
from dcsim.model.queues import make_queue
from dcsim.model.service import MONTH
from dcsim.model.streams import Streams
from tests.support import assert_in_ci, grid_region, mean_ci

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261202
region = grid_region
SERVICE_EVENTS = ("interim_service_granted", "flexible_service_granted", "network_upgrade_queued",
                  "tranche_energized", "firm_service_reached")  # fmt: skip


@dataclasses.dataclass
class Site:
    """A site's request as the queue sees it, and the grid MW it was given, when."""

    mw: float
    tranches: tuple[tuple[float, float], ...] = ()  # (MW, earliest day); () = all at day 0
    interim: bool = False
    flexible: float | None = None
    ramp: float | None = None  # MW a day
    day: float = 0.0
    grid: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    request: GridRequest | None = None

    def grid_at(self, day: float) -> float:
        return sum(mw for when, mw in self.grid if when <= day + 1e-9)


def run(spec: Region, sites: Sequence[Site], until: float = 5000.0, replication: int = 0,
        others: Sequence[tuple[float, float]] = ()) -> list[EventRow]:  # fmt: skip
    """Submit each site's request (and committed ``others``: (day, MW)); run to ``until``."""
    env = simpy.Environment()
    recorder = Recorder()
    streams = Streams(SEED, replication)
    queue = make_queue(env, spec, recorder, streams)

    def submit(site: Site, name: str):  # type: ignore[no-untyped-def]
        yield env.timeout(site.day)
        tranches = tuple(Tranche(mw, day) for mw, day in site.tranches) or (Tranche(site.mw, 0),)
        site.request = GridRequest(
            name, name, site.mw, tranches, streams(f"request:{name}"),
            on_energized=lambda mw: site.grid.append((env.now, mw)),
            interim=site.interim, flexible_curtailment=site.flexible, ramp=site.ramp,
        )  # fmt: skip
        queue.submit(site.request)

    def other(day: float, name: str, mw: float):  # type: ignore[no-untyped-def]
        yield env.timeout(day)
        queue.submit(GridRequest(name, name, mw, (), streams(f"request:{name}")))

    for number, site in enumerate(sites):
        env.process(submit(site, f"S{number}"))
    for number, (day, mw) in enumerate(others):
        env.process(other(day, f"O{number}", mw))
    env.run(until=until)
    return recorder.all_rows(until)


def details(rows: list[EventRow]) -> list[tuple[float, str, float, str]]:
    return [(r.time_days, r.event, r.quantity, r.detail) for r in rows if r.event in SERVICE_EVENTS]


# ================================================================ by hand
# The region of tests/test_upgrades.py: studies 100 days, no agreement delay, energization
# 30 days, upgrades 200 days (each starts at once), 120 MW of headroom here.
SPEC = region(headroom_mw=120.0)


def test_interim_service_energizes_the_headroom_then_the_upgraded_remainder() -> None:
    # 300 MW, agreed day 100, 120 MW free: interim service takes them (energized 130);
    # the other 180 MW wait for an upgrade 100..300, energized 330.
    site = Site(300.0, interim=True)
    rows = run(SPEC, [site])
    assert details(rows) == [
        (100.0, "interim_service_granted", 120.0, "180 MW wait for an upgrade"),
        (100.0, "network_upgrade_queued", 180.0, "request exceeds remaining headroom of 0 MW"),
        (130.0, "tranche_energized", 120.0, "part of tranche 1"),
        (330.0, "tranche_energized", 180.0, "part of tranche 1"),
    ]
    assert site.grid == [(130.0, 120.0), (330.0, 180.0)]
    assert site.request is not None and site.request.service is not None
    assert site.request.service.full_at == 330.0
    # Without it: nothing until the whole 300 MW are upgraded and energized on day 330.
    base = Site(300.0)
    run(SPEC, [base])
    assert base.grid == [(330.0, 300.0)]


def test_a_flexible_connection_is_curtailed_until_the_upgrade_makes_it_firm() -> None:
    # 300 MW, curtailed 25% of the hours: all 300 MW energized non-firm on day 130 (the grid
    # layer gets 225 MW); the upgrade is done on day 300 and they become firm (+75 MW).
    # Curtailed: 25% x 300 MW x 170 days x 24 h = 306,000 MWh.
    site = Site(300.0, flexible=0.25)
    rows = run(SPEC, [site])
    assert details(rows) == [
        (100.0, "flexible_service_granted", 300.0, "curtailed 25% of the hours until firm"),
        (100.0, "network_upgrade_queued", 180.0, "request exceeds remaining headroom of 120 MW"),
        (130.0, "tranche_energized", 300.0, "non-firm"),
        (300.0, "firm_service_reached", 300.0, "non-firm MW made firm"),
    ]
    assert site.grid == [(130.0, 225.0), (300.0, 75.0)]
    assert site.request is not None and site.request.service is not None
    assert site.request.service.curtailed_mwh() == pytest.approx(0.25 * 300 * 170 * 24)
    assert site.request.service.full_at == 300.0


def test_interim_and_flexible_together_leave_only_the_remainder_non_firm() -> None:
    # 120 MW interim (firm) and 180 MW non-firm, both energized on day 130; firm on day 300.
    site = Site(300.0, interim=True, flexible=0.25)
    rows = run(SPEC, [site])
    assert [(t, e, q) for t, e, q, _ in details(rows)] == [
        (100.0, "interim_service_granted", 120.0),
        (100.0, "flexible_service_granted", 180.0),
        (100.0, "network_upgrade_queued", 180.0),
        (130.0, "tranche_energized", 120.0),
        (130.0, "tranche_energized", 180.0),
        (300.0, "firm_service_reached", 180.0),
    ]
    assert site.grid == [(130.0, 120.0 + 0.75 * 180.0), (300.0, 0.25 * 180.0)]
    assert site.request is not None and site.request.service is not None
    assert site.request.service.curtailed_mwh() == pytest.approx(0.25 * 180 * 170 * 24)


def test_tranche_dates_still_cap_interim_and_flexible_service() -> None:
    # Tranches of 150 MW from day 0 and 150 MW from day 400.
    # Interim: 120 MW on day 130; the other 30 MW of tranche 1 with the upgrade on 330;
    # tranche 2 on its date, 400.
    interim = Site(300.0, tranches=((150.0, 0.0), (150.0, 400.0)), interim=True)
    run(SPEC, [interim])
    assert interim.grid == [(130.0, 120.0), (330.0, 30.0), (400.0, 150.0)]
    # Flexible: tranche 1 non-firm on day 130 (150 x 0.75), firm on 300, tranche 2 on 400.
    flexible = Site(300.0, tranches=((150.0, 0.0), (150.0, 400.0)), flexible=0.25)
    rows = run(SPEC, [flexible])
    assert flexible.grid == [(130.0, 112.5), (300.0, 37.5), (400.0, 150.0)]
    assert ("firm_service_reached", 150.0) in [(e, q) for _, e, q, _ in details(rows)]
    assert flexible.request is not None and flexible.request.service is not None
    assert flexible.request.service.curtailed_mwh() == pytest.approx(0.25 * 150 * 170 * 24)


def test_neither_option_changes_a_request_the_headroom_covers() -> None:
    for options in ({"interim": True}, {"flexible": 0.3}, {"interim": True, "flexible": 0.3}):
        site = Site(100.0, **options)  # type: ignore[arg-type]
        rows = run(SPEC, [site])
        assert site.grid == [(130.0, 100.0)], options
        assert [e for _, e, _, _ in details(rows)] == ["tranche_energized"]


def test_an_upgrade_done_before_flexible_service_is_energized_needs_no_second_wait() -> None:
    # Energization 300 days, upgrade 200: the upgrade is done (day 300) before the non-firm
    # MW are energized (day 400); they are energized firm on day 400, not on 300 + 300.
    spec = dataclasses.replace(SPEC, energization_time=Fixed(300.0))
    site = Site(300.0, flexible=0.25)
    run(spec, [site])
    assert site.grid == [(400.0, 300.0)]
    assert site.request is not None and site.request.service is not None
    assert site.request.service.curtailed_mwh() == 0.0


def test_a_load_ramp_lets_the_grid_layer_grow_a_month_at_a_time() -> None:
    # 100 MW fit the headroom: energized on day 130. A ramp of 30 MW a month gives 30 MW at
    # once, 30 more at the start of each month after, and the last 10 in the fourth month.
    site = Site(100.0, ramp=30.0 / MONTH)
    rows = run(SPEC, [site])
    assert site.grid == [(130.0 + k * MONTH, mw) for k, mw in enumerate((30.0, 30.0, 30.0, 10.0))]
    ramped = [(r.time_days, r.quantity) for r in rows if r.event == "load_ramped"]
    assert ramped == [(130.0 + k * MONTH, mw) for k, mw in enumerate((30.0, 60.0, 90.0, 100.0))]
    # Interim service then the upgraded rest: the ramp goes on from where it stands.
    site = Site(300.0, interim=True, ramp=100.0 / MONTH)
    run(SPEC, [site])
    assert site.grid == [(130.0, 100.0), (130.0 + MONTH, 20.0), (330.0, 100.0),
                         (330.0 + MONTH, 80.0)]  # fmt: skip


def test_the_ramp_is_read_with_its_unit() -> None:
    spec = dcsim.load(ROOT / "sites" / "ashburn.toml")
    ramped = dcsim.override(spec, {"sites.ashburn.interconnection.ramp": "50 MW/month"})
    assert ramped.sites[0].interconnection.ramp_mw_per_day == pytest.approx(50.0 / MONTH)
    for bad, expected in (("50 MW", "rate of power per time"), ("1e-12 MW/month", "0.1 MW")):
        with pytest.raises(dcsim.DcsimError, match=expected) as caught:
            dcsim.override(spec, {"sites.ashburn.interconnection.ramp": bad})
        assert "interconnection.ramp" in str(caught.value)


# ================================================================ invariants
@st.composite
def service_case(draw: st.DrawFn) -> tuple[Region, Site, list[tuple[float, float]]]:
    spec = region(
        headroom_mw=draw(st.sampled_from([0.0, 80.0, 250.0])),
        upgrade_crews=draw(st.integers(0, 2)),
        upgrade_mw=draw(st.sampled_from([0.0, 150.0, 600.0])),
        network_upgrade_time=draw(st.sampled_from([Fixed(150.0), Exponential(200.0)])),
        energization_time=draw(st.sampled_from([Fixed(30.0), Fixed(250.0)])),
        background_rate=draw(st.sampled_from([0.0, 0.02, 0.05, 0.15])),
        background_size=draw(st.sampled_from([Fixed(80.0), Exponential(150.0)])),
        withdrawal_after_agreement=draw(st.sampled_from([0.0, 0.5])),
        initial_backlog=draw(st.integers(0, 4)),
    )
    mw = draw(st.sampled_from([100.0, 300.0, 700.0]))
    split = draw(st.sampled_from([(), (0.5, 600.0), (0.3, 1500.0)]))
    tranches = ((mw * split[0], 0.0), (mw * (1 - split[0]), split[1])) if split else ()
    site = Site(mw, tranches=tranches, day=float(draw(st.integers(0, 600))))
    others = [(float(d), m) for d, m in draw(st.lists(
        st.tuples(st.integers(0, 1500), st.sampled_from([50.0, 200.0, 500.0])), max_size=3))]  # fmt: skip
    return spec, site, others


@settings(max_examples=100, deadline=None)
@given(service_case(), st.booleans(), st.sampled_from([None, 0.0, 0.2, 0.9]))
def test_interim_or_flexible_service_never_leaves_a_site_with_less_grid_power(
    case: tuple[Region, Site, list[tuple[float, float]]], interim: bool, flexible: float | None
) -> None:
    spec, site, others = case
    better = dataclasses.replace(site, interim=interim, flexible=flexible, grid=[])
    until = 6000.0
    run(spec, [site], until=until, others=others)
    rows = run(spec, [better], until=until, others=others)
    for day in sorted({t for t, _ in site.grid + better.grid}):
        assert better.grid_at(day) >= site.grid_at(day) - 1e-6, (day, better.grid, site.grid)
    # What the grid layer was given never exceeds the request, and all of it once firm.
    assert better.grid_at(until) <= site.mw + 1e-6
    assert better.request is not None
    service = better.request.service
    if service is not None and service.full_at is not None:
        assert better.grid_at(until) == pytest.approx(site.mw)
        assert service.firm == pytest.approx(site.mw)
    # Curtailment only with a flexible connection, and never more than share x request.
    if service is not None:
        hours = (until - better.day) * 24.0
        assert 0.0 <= service.curtailed_mwh() <= (flexible or 0.0) * site.mw * hours + 1e-6
    energized = sum(r.quantity for r in rows if r.event == "tranche_energized" and r.object == "S0")
    assert energized <= site.mw + 1e-6


@settings(max_examples=80, deadline=None)
@given(service_case(), st.sampled_from([1.0, 5.0]), st.sampled_from([2.0, 10.0, None]))
def test_a_faster_ramp_never_leaves_a_site_with_less_grid_power(
    case: tuple[Region, Site, list[tuple[float, float]]], slow: float, faster: float | None
) -> None:
    spec, site, others = case
    base = dataclasses.replace(site, ramp=slow, grid=[])
    better = dataclasses.replace(site, ramp=None if faster is None else slow * faster, grid=[])
    run(spec, [base], until=6000.0, others=others)
    run(spec, [better], until=6000.0, others=others)
    for day in sorted({t for t, _ in base.grid + better.grid}):
        assert better.grid_at(day) >= base.grid_at(day) - 1e-6, (day, better.grid, base.grid)
    assert base.grid_at(6000.0) <= site.mw + 1e-6


# ================================================================ theory
def test_curtailed_energy_matches_the_expected_overshoot_of_the_upgrade() -> None:
    # One request, no headroom, every upgrade starts at once and takes U ~ Exp(mean m);
    # non-firm service is energized E = 100 days after agreement and curtailed until the
    # upgrade is done: E[curtailed MWh] = share x MW x 24 x E[(U - E)+] = ... x m e^(-E/m).
    m, e, share, mw = 200.0, 100.0, 0.2, 300.0
    spec = region(network_upgrade_time=Exponential(m), energization_time=Fixed(e))
    samples = []
    for replication in range(2000):
        site = Site(mw, flexible=share)
        run(spec, [site], until=20000.0, replication=replication)
        assert site.request is not None and site.request.service is not None
        samples.append(site.request.service.curtailed_mwh())
    expected = share * mw * 24.0 * m * math.exp(-e / m)
    assert_in_ci(expected, mean_ci(samples), "curtailed MWh", max_rel_half_width=0.1)


# ================================================================ end to end
def test_compare_prices_interim_and_flexible_service_at_ashburn() -> None:
    """The levers are site keys that --set reaches; each shows in the summary."""
    scenario = dcsim.load(ROOT / "sites" / "ashburn.toml")
    lever = {"sites.ashburn.interconnection.flexible_curtailment": 0.1}
    base = dcsim.run(scenario, replications=4, seed=SEED, workers=1)
    flexible = dcsim.run(dcsim.override(scenario, lever), replications=4, seed=SEED, workers=1)
    b, f = base.summary, flexible.summary
    # Curtailed in runs where the upgrade outlasts the energization of non-firm service.
    assert (f["grid_curtailed_mwh"] >= 0).all() and f["grid_curtailed_mwh"].max() > 0
    assert (b["grid_curtailed_mwh"] == 0).all()
    assert (f["request_to_energization_days"] <= b["request_to_energization_days"] + 1e-9).all()
    assert (f["idle_gpu_hours"] <= b["idle_gpu_hours"] + 1e-6).all()
    assert f["idle_gpu_hours"].mean() < b["idle_gpu_hours"].mean()
    firm = f["request_to_firm_service_days"]
    assert (firm <= b["request_to_firm_service_days"] + 1e-9).all()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("interim_service", "yes", "true or false"),
        ("interim_service", 1, "true or false"),
        ("flexible_curtailment", 1.5, "a number"),
        ("flexible_curtailment", 1.0, "a number"),
        ("flexible_curtailment", -0.1, "a number"),
        ("flexible_curtailment", "10%", "a plain number"),
    ],
)
def test_bad_service_options_are_refused_with_the_key_named(
    key: str, value: object, expected: str
) -> None:
    spec = dcsim.load(ROOT / "sites" / "ashburn.toml")
    with pytest.raises(dcsim.DcsimError, match=expected) as caught:
        dcsim.override(spec, {f"sites.ashburn.interconnection.{key}": value})
    assert f"interconnection.{key}" in str(caught.value)
