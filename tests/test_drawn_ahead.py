"""Draws taken ahead in blocks are the draws taken one at a time.

The background traffic of a region queue reads its uniforms, and the arrival clocks of
markets and chip supplies their Exp(1) draws, from :class:`~dcsim.model.streams.DrawnAhead`;
common random numbers and every published sample path rely on that being the same
stream, in the same order, as one ``rng.random()`` (``rng.standard_exponential()``) per draw.
"""

from __future__ import annotations

import math

import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.input.distributions import Exponential, Uniform
from dcsim.input.spec import StudyPhase
from dcsim.model.event_log import Recorder
from dcsim.model.events import Event
from dcsim.model.serial_queue import SerialQueue
from dcsim.model.streams import DrawnAhead
from tests.support import grid_region


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    counts=st.lists(st.integers(0, 600), max_size=40),  # 0: one next(); n: take(n)
)
def test_any_mix_of_next_and_take_reads_the_stream_in_order(seed: int, counts: list[int]) -> None:
    one_by_one = np.random.default_rng(seed)
    ahead = DrawnAhead(np.random.default_rng(seed))
    for count in counts:
        if count == 0:
            assert ahead.next() == one_by_one.random()
        else:
            assert ahead.take(count) == one_by_one.random(count).tolist()


def test_background_arrivals_read_gap_size_plan_in_that_order() -> None:
    # Worked from the raw stream: each background request takes one uniform for the gap
    # before it, one for its size, then 2 x phases + 4 for its plan.
    phases = (
        StudyPhase("a", Exponential(30.0), 0.0),
        StudyPhase("b", Exponential(60.0), 0.0),
    )
    size = Uniform(10.0, 50.0)
    region = grid_region(phases=phases, background_rate=0.5, background_size=size,
                         headroom_mw=math.inf)  # fmt: skip
    env = simpy.Environment()
    recorder = Recorder()
    SerialQueue(env, region, recorder, np.random.default_rng(11))
    env.run(until=400.0)
    rows = recorder.all_rows(400.0)
    submitted = [row for row in rows if row.event == Event.REQUEST_SUBMITTED]

    raw = np.random.default_rng(11)
    clock, expected = 0.0, []
    while True:
        clock += -2.0 * math.log1p(-raw.random())
        if clock > 400.0:
            break
        mw = size.quantile(raw.random())
        u = raw.random(2 * len(phases) + 4).tolist()
        expected.append((clock, mw, phases[0].duration.quantile(u[0])))
    assert len(submitted) == len(expected) > 100
    first_phase_end = {
        row.object: row.time_days
        for row in rows
        if row.event == Event.PHASE_COMPLETED and row.detail == "a"
    }
    study_start = {row.object: row.time_days for row in rows if row.event == Event.STUDY_STARTED}
    for row, (when, mw, first_phase) in zip(submitted, expected, strict=True):
        assert row.time_days == when
        assert row.quantity == mw
        assert math.isclose(
            first_phase_end[row.object] - study_start[row.object], first_phase, rel_tol=1e-9
        )


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), counts=st.lists(st.integers(0, 600), max_size=20))
def test_arrays_of_draws_read_the_stream_in_order_too(seed: int, counts: list[int]) -> None:
    one_by_one = np.random.default_rng(seed)
    ahead = DrawnAhead(np.random.default_rng(seed))
    for count in counts:
        if count % 3 == 0:
            assert ahead.next() == one_by_one.random()
        else:
            assert ahead.take_array(count).tolist() == one_by_one.random(count).tolist()


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), counts=st.lists(st.integers(0, 600), max_size=20))
def test_exponential_draws_read_the_stream_in_order(seed: int, counts: list[int]) -> None:
    one_by_one = np.random.default_rng(seed)
    ahead = DrawnAhead(np.random.default_rng(seed), exponential=True)
    for count in counts:
        if count % 3 == 0:
            assert ahead.next() == one_by_one.standard_exponential()
        elif count % 3 == 1:
            assert ahead.take(count) == one_by_one.standard_exponential(count).tolist()
        else:
            drawn = ahead.take_array(count).tolist()
            assert drawn == one_by_one.standard_exponential(count).tolist()


def test_taking_no_draws_takes_none() -> None:
    one_by_one = np.random.default_rng(3)
    ahead = DrawnAhead(np.random.default_rng(3))
    assert ahead.next() == one_by_one.random()
    assert ahead.take(0) == []
    assert ahead.take(3) == one_by_one.random(3).tolist()
