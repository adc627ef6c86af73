"""The event log as columns: rows of one time in the order they were logged, by hand."""

from __future__ import annotations

import math

import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.input.distributions import Fixed
from dcsim.input.spec import StudyPhase
from dcsim.model.event_log import EventBlock, EventLog, Recorder
from dcsim.model.events import Event, EventRow, Process
from dcsim.model.serial_queue import SerialQueue
from dcsim.model.streams import Streams
from tests.support import grid_region


def _row(time: float, obj: str, event: Event = Event.STUDY_STARTED) -> EventRow:
    return EventRow(time, "r", event.process, event, obj, math.nan, "", "", True)


def test_rows_of_one_time_come_in_the_order_they_were_logged() -> None:
    # Day 20: a block row worked out on day 15 (a request that arrived then), a row logged
    # ahead on day 10 (an energization set at an agreement), one logged on day 20.
    block = EventBlock(
        time=np.array([20.0, 25.0]),
        event=np.array([Event.STUDY_STARTED.code] * 2, dtype=np.int16),
        quantity=np.array([math.nan, math.nan]),
        site=np.array([0, 0]),
        obj=np.array([1, 1]),
        unit=np.array([2, 2]),
        detail=np.array([2, 2]),
        strings=["r", "late-arrival", ""],
        background=np.array([True, True]),
        logged=np.array([15.0, 15.0]),
    )
    rows = [_row(20.0, "signed-early", Event.TRANCHE_ENERGIZED), _row(20.0, "now"),
            _row(5.0, "before")]  # fmt: skip
    log = EventLog.build(rows, [block], 100.0, ahead={0: 10.0})
    assert [(r.time_days, r.object) for r in log.rows()] == [
        (5.0, "before"), (20.0, "signed-early"), (20.0, "late-arrival"), (20.0, "now"),
        (25.0, "late-arrival"),
    ]  # fmt: skip
    assert log.rows()[0].process is Process.INTERCONNECTION


def test_a_missing_text_stays_missing() -> None:
    rows = [_row(1.0, "a")._replace(detail=None), _row(2.0, "b")._replace(detail="x")]
    assert [r.detail for r in EventLog.build(rows, [], 10.0).rows()] == [None, "x"]  # type: ignore[arg-type]


_TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "b", "r", "MW", "x/bg-1", "x/bg-10"]))


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.tuples(_TEXT, _TEXT, _TEXT, _TEXT), min_size=1, max_size=30),
    block_texts=st.lists(st.sampled_from(["", "a", "r", "x/bg-1", "late"]), min_size=1,
                         max_size=5),
)  # fmt: skip
def test_every_text_comes_back_and_the_names_are_each_text_once_in_order_of_first_use(
    texts: list[tuple[str | None, str | None, str | None, str | None]], block_texts: list[str]
) -> None:
    # Invariant: whatever the repeats and missing texts across rows and a block, each row
    # reads back the texts it was logged with; the names hold each text once, in the order
    # the texts are first met: the block's, then the rows' column by column (site, object,
    # unit, detail), as the rows become a block of their own.
    rows = [
        EventRow(1.0 + i, site, Process.INTERCONNECTION, Event.STUDY_STARTED, obj, 1.0,
                 unit, detail, False)  # type: ignore[arg-type]
        for i, (site, obj, unit, detail) in enumerate(texts)
    ]  # fmt: skip
    last = len(block_texts) - 1
    block = EventBlock(
        time=np.array([0.5]), event=np.array([Event.STUDY_STARTED.code], dtype=np.int16),
        quantity=np.array([2.0]), site=np.array([0]), obj=np.array([last]),
        unit=np.array([0]), detail=np.array([last]), strings=block_texts,
        background=np.array([True]), logged=np.array([0.5]),
    )  # fmt: skip
    log = EventLog.build(rows, [block], math.inf)
    read = [(r.site, r.object, r.unit, r.detail) for r in log.rows()]
    first = block_texts[0], block_texts[last], block_texts[0], block_texts[last]
    assert read == [first, *texts]
    met = [*block_texts, *(row[column] for column in range(4) for row in texts)]
    assert log.names.tolist() == list(dict.fromkeys(met))


def test_a_queue_logs_its_steps_in_the_order_they_happen_by_hand() -> None:
    # One engineer, 10-day studies, agreement at once, energized 10 days after it; three
    # requests waiting when the queue opens. bg-1: studied 0-10, energized 20; bg-2: 10-20,
    # energized 30; bg-3: 20-30, energized 40. Day 20: bg-2's study ends and bg-3's starts
    # (worked out on day 0), bg-1's energization (set on day 10), bg-2 signs (day 20).
    region = grid_region(study_engineers=1, phases=(StudyPhase("study", Fixed(10.0), 0.0),),
                         headroom_mw=math.inf, initial_backlog=3,
                         energization_time=Fixed(10.0))  # fmt: skip
    env = simpy.Environment()
    recorder = Recorder()
    SerialQueue(env, region, recorder, Streams(1, 0)("bg"))
    env.run(until=50)
    day_20 = [(r.object, str(r.event)) for r in recorder.all_rows(50) if r.time_days == 20]
    assert day_20 == [
        ("r/bg-2", "phase_completed"), ("r/bg-2", "study_completed"),
        ("r/bg-3", "study_started"), ("r/bg-1", "tranche_energized"),
        ("r/bg-2", "agreement_signed"),
    ]  # fmt: skip
