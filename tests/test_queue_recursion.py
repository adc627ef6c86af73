"""The serial queue's recursion over arrivals is first come, first served on c engineers.

The region queue no longer runs a SimPy process per background request: each
request's study start is computed when it arrives, as max(arrival, the time the
engineer free soonest is free). Proven three ways:

* by hand: a timeline of fixed studies worked out on paper;
* under hypothesis: on random rates, engineers, phases and withdrawals, the log
  is exactly what FCFS on c servers allows — studies start in arrival order,
  never more than c at once, and nobody waits while an engineer is idle (so
  each start is its arrival or the moment an engineer came free);
* against a bare SimPy resource fed the same arrivals and durations: the same
  start times, to the last bit of rounding;

and against theory in tests/test_theory_queue.py (Erlang C, Little,
Pollaczek-Khinchine), which pass unchanged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.input.distributions import Exponential, Fixed
from dcsim.input.spec import Region, StudyPhase
from dcsim.model.event_log import Recorder
from dcsim.model.grid_request import GridRequest
from dcsim.model.serial_queue import SerialQueue
from dcsim.model.streams import Streams
from tests.support import grid_region

EPS = 1e-9


def _timeline(
    c: int, rate: float, phases: tuple[StudyPhase, ...], seed: int, until: float
) -> dict[str, dict[str, list[float]]]:
    """Per background request: the times of each of its events, from the queue's log."""
    region = grid_region(study_engineers=c, phases=phases, background_rate=rate,
                         headroom_mw=math.inf)  # fmt: skip
    env = simpy.Environment()
    recorder = Recorder()
    SerialQueue(env, region, recorder, Streams(seed, 0)("bg"))
    env.run(until=until)
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in recorder.all_rows(until):
        times[row.object][str(row.event)].append(row.time_days)
    return times


def _queue_with_sites(
    region: Region, sites: list[tuple[float, str]]
) -> tuple[simpy.Environment, Recorder]:
    """A serial queue of ``region`` (background stream of seed 1) that a site's request
    joins at each (day, name) of ``sites``."""
    env = simpy.Environment()
    recorder = Recorder()
    queue = SerialQueue(env, region, recorder, Streams(1, 0)("bg"))
    streams = Streams(1, 0)

    def arrive(day: float, name: str) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(day)
        queue.submit(GridRequest(ident=name, site=name, mw=1.0, tranches=(), rng=streams(name)))

    for day, name in sites:
        env.process(arrive(day, name))
    return env, recorder


def test_fixed_studies_by_hand() -> None:
    # Two engineers, studies of 10 days; requests at days 0, 1, 2 and 30 (a site's own
    # requests, so that the arrivals are exactly these). By hand: r1 and r2 start at
    # once; r3 waits for r1's engineer (day 10) and ends on day 20; r4 finds both free.
    region = grid_region(study_engineers=2, phases=(StudyPhase("study", Fixed(10.0), 0.0),),
                         headroom_mw=math.inf, energization_time=Fixed(0.0))  # fmt: skip
    env, recorder = _queue_with_sites(region, [(0, "r1"), (1, "r2"), (2, "r3"), (30, "r4")])
    env.run(until=100)
    started = {r.object: r.time_days for r in recorder.rows if r.event == "study_started"}
    done = {r.object: r.time_days for r in recorder.rows if r.event == "study_completed"}
    assert started == {"r1": 0, "r2": 1, "r3": 10, "r4": 30}
    assert done == {"r1": 10, "r2": 11, "r3": 20, "r4": 40}


@settings(max_examples=25, deadline=None)
@given(
    c=st.integers(1, 4),
    load=st.floats(0.3, 1.3),
    phases=st.integers(1, 3),
    withdrawal=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 10_000),
)
def test_the_log_is_first_come_first_served_on_c_engineers(
    c: int, load: float, phases: int, withdrawal: float, seed: int
) -> None:
    mean = 30.0
    stages = tuple(StudyPhase(f"p{i}", Exponential(mean / phases), withdrawal)
                   for i in range(phases))  # fmt: skip
    rate = load * c / mean
    times = _timeline(c, rate, stages, seed, until=60 * mean)
    spans = []  # (arrival, start, end) in arrival order
    for events in times.values():
        if "study_started" not in events:
            continue
        start = events["study_started"][0]
        ends = events["phase_completed"]
        assert len(ends) <= phases
        withdrew = "request_withdrawn" in events
        assert withdrew or len(ends) == phases, events
        spans.append((events["request_submitted"][0], start, ends[-1] if ends else math.inf))
    spans.sort()
    starts = [start for _, start, _ in spans]
    assert starts == sorted(starts), "studies start in arrival order"
    for arrival, start, _ in spans:
        assert start >= arrival - EPS
        busy = sum(1 for _, s, e in spans if s <= start + EPS and e > start + EPS)
        assert busy <= c, "never more than c studies at once"
        if start > arrival + EPS:
            # It waited: just before it started every engineer was busy, and one came free
            # exactly then.
            before = start - 1e-7
            assert sum(1 for _, s, e in spans if s <= before < e) == c
            assert any(abs(e - start) <= EPS for _, _, e in spans)


def test_the_same_start_times_as_a_simpy_resource() -> None:
    c, mean = 3, 30.0
    stages = (
        StudyPhase("a", Exponential(mean / 2), 0.2),
        StudyPhase("b", Exponential(mean / 2), 0.0),
    )
    times = _timeline(c, 0.9 * c / mean, stages, seed=7, until=40 * mean)
    requests = sorted(times.values(), key=lambda e: e["request_submitted"][0])
    env = simpy.Environment()
    engineers = simpy.Resource(env, capacity=c)
    seen: dict[int, float] = {}

    def customer(index: int, events: dict[str, list[float]]) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(events["request_submitted"][0] - env.now)
        with engineers.request() as slot:
            yield slot
            seen[index] = env.now
            previous = events["study_started"][0]
            for end in events["phase_completed"]:
                yield env.timeout(end - previous)  # the durations the queue drew
                previous = end

    for index, events in enumerate(requests):
        if "study_started" in events:
            env.process(customer(index, events))
    env.run()
    for index, events in enumerate(requests):
        if index in seen:
            assert math.isclose(seen[index], events["study_started"][0], rel_tol=0, abs_tol=1e-6)
    assert len(seen) > 50


def _queue_log(
    region: Region, sites: list[float], until: float, looks: list[float]
) -> list[tuple[object, ...]]:
    """The log of ``region``'s queue with site requests at ``sites`` days, its rows
    collected at each of ``looks`` on the way (and at ``until``)."""
    env, recorder = _queue_with_sites(region, [(d, f"site-{n}") for n, d in enumerate(sites)])
    for look in sorted(set(looks)):
        env.run(until=look)
        recorder.collect(look)
    env.run(until=until)
    # NaN is not equal to itself: a missing quantity reads as None here.
    return [tuple(None if v != v else v for v in row) for row in recorder.all_rows(until)]


@settings(max_examples=30, deadline=None)
@given(
    c=st.integers(1, 3),
    load=st.floats(0.3, 1.2),
    backlog=st.integers(0, 5),
    agreement=st.sampled_from([0.0, 20.0]),
    sites=st.lists(st.floats(0, 1500), max_size=3),
    looks=st.lists(st.floats(1, 1499), max_size=3),
)
def test_background_requests_sign_on_time_whenever_they_are_taken_in(
    c: int, load: float, backlog: int, agreement: float, sites: list[float], looks: list[float]
) -> None:
    # Background requests are put in line only when something needs the line; each must
    # still sign exactly when its studies end plus the agreement time, every one whose
    # day falls in the run, and the log must not depend on when its rows were collected.
    mean = 30.0
    stages = (
        StudyPhase("a", Exponential(mean / 2), 0.3),
        StudyPhase("b", Exponential(mean / 2), 0.0),
    )
    region = grid_region(study_engineers=c, phases=stages, background_rate=load * c / mean,
                         initial_backlog=backlog, agreement_time=Fixed(agreement),
                         headroom_mw=math.inf)  # fmt: skip
    until = 1500.0
    rows = _queue_log(region, sites, until, looks)
    assert rows == _queue_log(region, sites, until, [])
    done = {r[4]: r[0] for r in rows if r[3] == "study_completed" and r[8]}
    signed = {r[4]: r[0] for r in rows if r[3] == "agreement_signed" and r[8]}
    due = {name for name, day in done.items() if day + agreement < until - EPS}
    assert due <= set(signed) <= set(done)
    for name, day in signed.items():
        assert math.isclose(day, done[name] + agreement, rel_tol=0, abs_tol=1e-9)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows), "the log is in time order"
