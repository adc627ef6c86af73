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
    """``datetime64[ns]`` of each day count from ``start`` (midnight); NaN gives NaT."""
    days = np.asarray(days, dtype=np.float64)
    missing = ~np.isfinite(days)
    if missing.any():
        days = np.where(missing, 0.0, days)
    whole = days.astype(np.int64)
    fraction = np.round(days - whole, _FRACTION_DECIMALS)
    offsets = whole * _NS_PER_DAY + (fraction * _NS_PER_DAY).astype(np.int64)
    times = np.datetime64(start, "ns") + offsets.astype("timedelta64[ns]")
    if missing.any():
        times[missing] = np.datetime64("NaT")
    return times
