"""Day counts from the start date as calendar times: how every table dates its rows.

The model counts time in days (floats) from the scenario's start; tables also give
each row its date and time. This is pandas' ``Timestamp(start) + to_timedelta(days,
unit="D")`` in NumPy alone, to the nanosecond (checked against pandas in
tests/test_day_times.py): pandas' way costs ~0.3 ms of Python a call, and a
replication's tables make several.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["day_times"]

_NS_PER_DAY = 86_400 * 10**9
# pandas rounds the fraction of a day to int(log10(ns a day)) = 13 decimals before it
# scales it, and adds it to the whole days scaled (each truncated to whole nanoseconds).
_FRACTION_DECIMALS = 13


def day_times(days: np.ndarray, start: dt.date) -> np.ndarray:
    """``datetime64[ns]`` of each day count from ``start`` (midnight); NaN or an infinite
    count gives NaT. Any time ``datetime64[ns]`` holds (1678 to 2261) comes out right,
    even more than 106,751 days (2**63 ns) from ``start``, where pandas' timedelta ends."""
    days = np.asarray(days, dtype=np.float64)
    missing = ~np.isfinite(days)
    if missing.any():
        days = np.where(missing, 0.0, days)
    whole = days.astype(np.int64)
    fraction = np.round(days - whole, _FRACTION_DECIMALS)
    # Whole days counted from 1970 before they are scaled: the nanoseconds of the time
    # itself, never those of a longer span.
    epoch_days = np.datetime64(start, "D").astype(np.int64) + whole
    nanoseconds = epoch_days * _NS_PER_DAY + (fraction * _NS_PER_DAY).astype(np.int64)
    times = nanoseconds.astype("datetime64[ns]")
    if missing.any():
        times[missing] = np.datetime64("NaT")
    return times
