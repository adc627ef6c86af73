"""day_times: day counts as calendar times, to the nanosecond pandas gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dcsim.model.day_times import day_times

START = dt.date(2025, 1, 1)


def by_pandas(days: np.ndarray, start: dt.date) -> np.ndarray:
    return (pd.Timestamp(start) + pd.to_timedelta(days, unit="D")).to_numpy(dtype="datetime64[ns]")


def test_hand_computed_times() -> None:
    days = np.array([0.0, 1.5, -1.0, 0.25, 365.0, np.nan])
    expected = np.array(
        ["2025-01-01T00:00", "2025-01-02T12:00", "2024-12-31T00:00", "2025-01-01T06:00",
         "2026-01-01T00:00", "NaT"],
        dtype="datetime64[ns]",
    )  # fmt: skip
    np.testing.assert_array_equal(day_times(days, START), expected)


def test_infinite_days_are_missing() -> None:
    times = day_times(np.array([np.inf, -np.inf, 2.0]), START)
    assert np.isnat(times[:2]).all()
    assert times[2] == np.datetime64("2025-01-03", "ns")


def test_the_same_as_pandas_on_a_million_days() -> None:
    rng = np.random.default_rng(7)
    # Every scale a model time has: a second's fraction to decades, before and after day 0.
    days = rng.uniform(-1, 1, 1_000_000) * 10 ** rng.uniform(-7, 4.6, 1_000_000)
    np.testing.assert_array_equal(day_times(days, START), by_pandas(days, START))


@settings(max_examples=300, deadline=None)
@given(
    days=hnp.arrays(
        np.float64,
        st.integers(0, 50),
        elements=st.floats(-40_000, 40_000) | st.just(float("nan")),
    ),
    start=st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31)),
)
def test_the_same_as_pandas(days: np.ndarray, start: dt.date) -> None:
    got = day_times(days, start)
    assert got.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(got, by_pandas(days, start))


def test_more_days_than_a_timedelta_holds() -> None:
    """A run from 1900 to 2200 spans more than 2**63 nanoseconds (where pandas' timedelta
    ends): each time still comes out as the calendar has it."""
    days = np.array([109_000.0, 109_000.5, 0.25])
    expected = [dt.datetime(1900, 1, 1) + dt.timedelta(days=d) for d in days.tolist()]
    got = day_times(days, dt.date(1900, 1, 1))
    assert got.astype("datetime64[us]").tolist() == expected
    back = day_times(-days, dt.date(2200, 1, 1))
    assert back.astype("datetime64[us]").tolist() == [
        dt.datetime(2200, 1, 1) - dt.timedelta(days=d) for d in days.tolist()
    ]
