"""A fleet across sites (issue 13, item 3): pooled lots are routed to a site by policy.

Proven by hand (a pooled lot goes to the site ready first, is in transit for the
transit time, and is counted once), under hypothesis (every GPU delivered is on
exactly one site or in transit at every instant, so none is created or lost), by
common random numbers (the routing policy changes no market's or queue's
background draws), and end to end (the keys load, dump and round-trip; bad values
are refused; compare prices a routing policy against fixed from the CLI).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.errors import SpecError
from dcsim.input.dump import to_toml
from dcsim.model.events import Event, Process
from dcsim.model.records import SiteRecord
from dcsim.model.simulation import ReplicationResult, simulate
from tests.support import (
    HAND_CATALOG,
    HOURS,
    SITES,
    assert_refused,
    load_text,
    random_scenario,
    run_cli,
)

TRANSIT = 10.0
INSTALL = 0.05  # 5,000 GPUs at 100,000 a day


def _day(n: int) -> str:
    return (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat()


def site(name: str, hall_mw: float, ready: int, lots: list[tuple[str, int, int, bool]]) -> str:
    """A site with power from the start (80 IT MW of existing service at PUE 1.25) whose
    one liquid hall is commissioned on day ``ready``; no grid request comes in time."""
    text = f"""
[sites.{name}]
start_date = 2025-01-01
[sites.{name}.interconnection]
request = "1 MW"
request_date = 2025-01-01
existing = "100 MW"
region = "r"
[sites.{name}.substation]
transformers = 1
rating = "1 MVA"
power_factor = 1.0
order_policy = "owned"
delivery = 2025-01-01
[[sites.{name}.halls]]
name = "h1"
it_power = "{hall_mw} MW"
cooling = "liquid"
construction_start = 2025-01-01
construction_time = "{ready} days"
[sites.{name}.installation]
rate = "100000 GPU/day"
batch = 100000
[sites.{name}.economics]
depreciation_life = "365 days"
"""
    for lot, count, day, pooled in lots:
        text += (
            f'[[sites.{name}.lots]]\nname = "{lot}"\ndelivery = {_day(day)}\ncount = {count}\n'
            f'model = "G"\npooled = {str(pooled).lower()}\n'
        )
    return text


def scenario(routing: str, *sites: str) -> str:
    return (
        '[scenario]\nname = "fleet"\nstart_date = 2025-01-01\nhorizon = "600 days"\n'
        f'catalog = false\ntransformer_supply = "t"\nrouting = "{routing}"\n'
        f'transit_time = "{TRANSIT:g} days"\n\n'
        + "".join(sites)
        + HAND_CATALOG.replace("STUDY", "1000 days")
    )


def fleet_events(result: ReplicationResult) -> list[tuple[float, str, str, str]]:
    return [(e.time_days, e.site, e.event.value, e.object) for e in result.events
            if e.process is Process.FLEET]  # fmt: skip


def by_site(result: ReplicationResult) -> dict[str, SiteRecord]:
    return {r.site: r for r in result.summary}


# a's hall stands on day 300, b's on day 100; a's pooled lot P (5,000 GPUs, 5 IT MW) is
# delivered on day 50, when neither has room.
HAND_A = site("a", 10, 300, [("P", 5000, 50, True)])
HAND_B = site("b", 10, 100, [("Q", 1000, 20, False)])


def test_first_ready_sends_a_pooled_lot_to_the_site_ready_first_by_hand() -> None:
    result = simulate(load_text(scenario("first_ready", HAND_A, HAND_B)))
    # Held from day 50 (no room anywhere); b's hall stands on day 100 with room for all of
    # it: routed there, in transit for 10 days, installed 0.05 days after it arrives.
    assert fleet_events(result) == [
        (50.0, "a", "lot_held", "P"),
        (100.0, "a", "lot_routed", "P"),
        (100.0 + TRANSIT, "b", "lot_arrived", "P"),
    ]
    a, b = by_site(result)["a"], by_site(result)["b"]
    horizon = 600.0
    assert a.gpus_delivered == 0 and b.gpus_delivered == 6000
    # Counted once: at a while held (days 50-100), at b on the way (100-110), then at b.
    assert a.gpu_hours_in_transit == pytest.approx(5000 * 50 * HOURS)
    assert b.gpu_hours_in_transit == pytest.approx(5000 * TRANSIT * HOURS)
    assert a.gpu_hours_running == 0 and a.idle_gpu_hours == 0
    q_running = 1000 * (horizon - 100 - 1000 / 100000) * HOURS
    p_running = 5000 * (horizon - 100 - TRANSIT - INSTALL) * HOURS
    assert b.gpu_hours_running == pytest.approx(q_running + p_running)
    # A site whose only lot went elsewhere never has "all its GPUs running"; b's Q runs
    # from day 100.01, but P is bound to b from day 100, so all of b's GPUs run only once
    # P does.
    assert math.isnan(a.all_running_days)
    assert b.all_running_days == pytest.approx(100 + TRANSIT + INSTALL)
    reached = [e.time_days for e in result.events if e.event is Event.ALL_GPUS_RUNNING]
    assert reached == pytest.approx([100 + TRANSIT + INSTALL])


def test_a_lot_routed_to_a_site_whose_gpus_all_run_moves_its_all_running_date() -> None:
    # b's Q runs from day 100.01 (all of b's GPUs then); a's P, delivered on day 200 with
    # a's hall not up until 300, is routed to b: all of b's GPUs run again from 210.05.
    late = site("a", 10, 300, [("P", 5000, 200, True)])
    result = simulate(load_text(scenario("first_ready", late, HAND_B)))
    reached = [e.time_days for e in result.events if e.event is Event.ALL_GPUS_RUNNING]
    assert reached == pytest.approx([100 + 1000 / 100000, 200 + TRANSIT + INSTALL])
    assert by_site(result)["b"].all_running_days == pytest.approx(200 + TRANSIT + INSTALL)


def test_fixed_routing_is_the_same_run_as_no_pooling() -> None:
    pooled = simulate(load_text(scenario("fixed", HAND_A, HAND_B)))
    plain = simulate(load_text(scenario("fixed", HAND_A.replace("true", "false"), HAND_B)))
    assert repr(pooled.summary) == repr(plain.summary)  # NaN-safe: NaN != NaN
    assert pooled.events == plain.events
    # By hand: P waits at a until its hall stands on day 300.
    a = by_site(pooled)["a"]
    assert a.idle_gpu_hours == pytest.approx(5000 * (300 + INSTALL - 50) * HOURS)


def test_first_ready_keeps_a_lot_at_home_when_home_is_ready_too() -> None:
    # Both halls stand on day 100: P goes home (no transit), the held lot counted once.
    result = simulate(load_text(scenario("first_ready", site("a", 10, 100, [("P", 5000, 50, True)]),
                                         HAND_B)))  # fmt: skip
    assert fleet_events(result) == [(50.0, "a", "lot_held", "P"), (100.0, "a", "lot_routed", "P")]
    routed = next(e for e in result.events if e.event is Event.LOT_ROUTED)
    assert routed.detail.startswith("a -> a,")
    a = by_site(result)["a"]
    assert a.gpu_hours_in_transit == pytest.approx(5000 * 50 * HOURS)
    assert a.gpu_hours_running == pytest.approx(5000 * (600 - 100 - INSTALL) * HOURS)


def test_a_lot_too_big_for_any_room_is_held_and_a_smaller_one_passes_it() -> None:
    # b's 10 MW hall can take the 4,000-GPU lot but never the 12,000-GPU one.
    a = site("a", 30, 550, [("big", 12000, 30, True), ("small", 4000, 40, True)])
    result = simulate(load_text(scenario("first_ready", a, HAND_B)))
    assert fleet_events(result) == [
        (30.0, "a", "lot_held", "big"),
        (40.0, "a", "lot_held", "small"),
        (100.0, "a", "lot_routed", "small"),  # 9 MW free at b beside Q's 1 MW
        (100.0 + TRANSIT, "b", "lot_arrived", "small"),
        (550.0, "a", "lot_routed", "big"),  # home's hall, at last
    ]


def test_most_room_routes_at_once_to_the_site_where_most_of_it_runs() -> None:
    # On day 50 a has 3 MW standing and b 10 MW (1 MW of it taken by Q): P goes to b.
    a = site("a", 3, 10, [("P", 5000, 50, True)])
    b = site("b", 10, 10, [("Q", 1000, 20, False)])
    result = simulate(load_text(scenario("most_room", a, b)))
    assert fleet_events(result) == [(50.0, "a", "lot_routed", "P"),
                                    (50.0 + TRANSIT, "b", "lot_arrived", "P")]  # fmt: skip
    detail = next(e.detail for e in result.events if e.event is Event.LOT_ROUTED)
    assert "a -> b in 10.0 days" in detail and "a 3.0, b 5.0" in detail
    # With no room anywhere it stays home: no transit.
    result = simulate(load_text(scenario("most_room", HAND_A, HAND_B)))
    assert fleet_events(result) == [(50.0, "a", "lot_routed", "P")]
    assert by_site(result)["a"].gpu_hours_in_transit == 0


def test_routing_is_unchanged_by_relaxed_layers() -> None:
    # Routing reads the sites as built, so the cascade's relaxed runs route as the base.
    text = scenario("first_ready", HAND_A, HAND_B)
    base = simulate(load_text(text))
    for relaxed in (["building"], ["installation"], ["building", "grid"]):
        other = simulate(load_text(text), relaxed=relaxed)
        assert fleet_events(other) == fleet_events(base)
        assert other.tapes == base.tapes


# ------------------------------------------------------------- invariants
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=random_scenario(), replication=st.integers(0, 50))
def test_every_gpu_delivered_is_on_one_site_or_in_transit_at_every_instant(
    text: str, replication: int
) -> None:
    scenario_ = load_text(text)
    result = simulate(scenario_, replication)
    delivered = [(e.time_days, int(e.quantity)) for e in result.events
                 if e.event is Event.LOT_DELIVERED]  # fmt: skip
    times = sorted({t for rows in result.snapshots.values() for t in (r.time_days for r in rows)})
    for t in times:
        held = 0
        for rows in result.snapshots.values():
            k = bisect.bisect_right([r.time_days for r in rows], t) - 1
            if k >= 0:
                row = rows[k]
                assert row.gpus_idle + row.gpus_running == row.gpus_on_site
                held += row.gpus_on_site + row.gpus_in_transit
        assert held == sum(n for when, n in delivered if when <= t), f"day {t}"
    # Every pooled lot delivered under a routing policy is routed once and arrives once.
    routed = [e.object for e in result.events if e.event is Event.LOT_ROUTED]
    assert len(routed) == len(set((e.site, e.object) for e in result.events
                                  if e.event is Event.LOT_ROUTED))  # fmt: skip
    if not scenario_.routes:
        assert not routed


# ------------------------------------------------------ common random numbers
def _portfolio(tmp_path: Path, routing: str) -> dcsim.Scenario:
    """The bundled portfolio with ashburn's lots pooled, under ``routing``."""
    pooled = tmp_path / "ashburn.toml"
    pooled.write_text(
        (SITES / "ashburn.toml").read_text().replace("[[lots]]", "[[lots]]\npooled = true")
    )
    names = ", ".join(
        f'"{p}"'
        for p in [pooled, *(SITES / f"{n}.toml" for n in ("abilene", "columbus", "memphis"))]
    )
    text = (SITES / "portfolio.toml").read_text()
    text = (
        text[: text.index("sites = [")]
        + f"sites = [{names}]"
        + text[text.index("]", text.index("sites = [")) + 1 :]
    )
    text = text.replace(
        'transformer_supply = "north_america"',
        f'transformer_supply = "north_america"\nrouting = "{routing}"\ntransit_time = "4 weeks"',
    )
    path = tmp_path / f"{routing}.toml"
    path.write_text(text)
    return dcsim.load(path)


def test_the_routing_policy_changes_no_background_draw(tmp_path: Path) -> None:
    fixed, ready = _portfolio(tmp_path, "fixed"), _portfolio(tmp_path, "most_room")
    assert ready.routes
    base, other = simulate(fixed, 3), simulate(ready, 3)
    assert [e for e in other.events if e.event is Event.LOT_ROUTED], "ashburn's lots are routed"
    assert base.events != other.events
    background = [e for e in base.events if e.background]
    assert background and background == [e for e in other.events if e.background]


# ------------------------------------------------------------ files and CLI
def test_routing_keys_round_trip_and_bad_values_are_refused(tmp_path: Path) -> None:
    loaded = load_text(scenario("first_ready", HAND_A, HAND_B))
    again = load_text(to_toml(loaded))
    assert again == loaded and again.routing == "first_ready" and again.sites[0].lots[0].pooled
    for bad, fragment in [
        ('routing = "first_ready"', 'routing = "nearest"'),
        ('transit_time = "10 days"', 'transit_time = "10 MW"'),
        ("pooled = true", 'pooled = "yes"'),
    ]:
        with pytest.raises(SpecError) as error:
            load_text(scenario("first_ready", HAND_A, HAND_B).replace(bad, fragment))
        assert fragment.split(" = ")[0] in str(error.value)


def test_compare_prices_routing_against_fixed_from_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(scenario("fixed", HAND_A, HAND_B))
    out = tmp_path / "cmp"
    done = run_cli("compare", path, "--reps", "2", "--workers", "1", "--out", out, "--quiet",
                   "--variant", "pooled", "--set", "scenario.routing=first_ready")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "GPU-hours in transit" in done.stdout and "GPU-hours running" in done.stdout
    bad = run_cli("run", path, "--reps", "1", "--set", "scenario.routing=nearest")
    assert_refused(bad, "scenario.routing", "first_ready")


def test_compare_prices_the_fleet_from_python() -> None:
    # Hand site: with first_ready, P runs at b from day 110 (see the first test); fixed
    # leaves it at a until a's hall is up on day 300: 5,000 GPUs x (300 + install - 50) days
    # idle, against 50 days waiting for a room, 10 in transit and its install at b.
    spec = load_text(scenario("first_ready", HAND_A, HAND_B))
    table = dcsim.compare(spec, {"fixed": {"scenario.routing": "fixed"}}, replications=2, workers=1)
    row = table.set_index(["site", "metric"]).loc[("(all sites)", "waiting_gpu_hours")]
    fixed_idle = 5000 * (300 + INSTALL - 50) * HOURS
    assert row["diff_mean"] == pytest.approx(fixed_idle - 5000 * (50 + TRANSIT + INSTALL) * HOURS)
