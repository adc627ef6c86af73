"""A replication's event logs and timeseries as Arrow tables, built in the worker.

The streamed run (:mod:`.streamed_run`) writes these straight to CSV or Parquet: no
pandas frame and no Python object per row on the way. Text columns of the event log
are dictionary arrays over the log's own table of names (a log repeats a few thousand
names over ~24,000 rows). The columns, their order and their values are those of
:func:`dcsim.experiments.results.pack`'s frames, which the Python API returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from dcsim.model.day_times import day_times
from dcsim.model.event_log import EVENTS, PROCESS_OF, PROCESSES, EventLog
from dcsim.model.events import EVENT_COLUMNS
from dcsim.model.simulation import TIMESERIES_COLUMNS, TIMESERIES_TYPES
from dcsim.output.csv_text import iso_text

_EVENT_NAMES = pa.array([event.value for event in EVENTS], type=pa.string())
_PROCESS_NAMES = pa.array([process.value for process in PROCESSES], type=pa.string())


def event_tables(
    log: EventLog, replication: int, start: dt.date, *, background: bool = True,
    pm4py: bool = False, csv: bool = True,
) -> dict[str, pa.Table]:  # fmt: skip
    """``events`` (the sites' own rows) and ``events_background`` (the regions' queue
    traffic; no rows unless ``background``), with pm4py's four columns first if asked;
    dates as text for CSV, else as timestamps."""
    own = ~log.background
    kept = log.background if background else np.zeros(len(log), dtype=bool)
    names = _names(log)  # the log's table of names (thousands), made into Arrow once
    return {
        "events": event_table(log.take(own), replication, start, pm4py, csv, names),
        "events_background": event_table(log.take(kept), replication, start, pm4py, csv, names),
    }


def _names(log: EventLog) -> pa.Array:
    return pa.array(log.names.tolist(), type=pa.string())


def event_table(
    log: EventLog, replication: int, start: dt.date, pm4py: bool = False, csv: bool = True,
    names: pa.Array | None = None,
) -> pa.Table:  # fmt: skip
    """The rows of ``log`` in the columns of EVENT_COLUMNS (dates as text for ``csv``;
    else as timestamps, and names as plain strings, as pandas writes Parquet).
    ``names``: ``log.names`` as an Arrow array, if made already."""
    names = _names(log) if names is None else names

    def text(codes: np.ndarray, dictionary: pa.Array = names) -> pa.Array:
        array = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), dictionary)
        return array if csv else array.cast(pa.string())

    def when(aware: bool = False) -> pa.Array:
        if csv:
            return iso_text(times, aware)
        return pa.array(times, type=pa.timestamp("ns", tz="UTC" if aware else None))

    count = len(log)
    times = day_times(log.time, start)
    events = pa.DictionaryArray.from_arrays(pa.array(log.event, type=pa.int16()), _EVENT_NAMES)
    processes = pa.DictionaryArray.from_arrays(
        pa.array(PROCESS_OF[log.event], type=pa.int8()), _PROCESS_NAMES
    )
    columns = {
        "replication": pa.array(np.full(count, replication, dtype=np.int64)),
        "time_days": pa.array(log.time),
        "timestamp": when(),
        "site": text(log.site),
        "process": processes,
        "event": events,
        "object": text(log.obj),
        "quantity": pa.array(log.quantity, mask=np.isnan(log.quantity)),
        "unit": text(log.unit),
        "detail": text(log.detail),
        "background": pa.array(log.background),
    }
    table = pa.table({name: columns[name] for name in EVENT_COLUMNS})
    if not pm4py:
        return table
    # A site's build-out is a case; a background request is a case of its own.
    case_codes = np.where(log.background, log.obj, log.site)
    cases = pa.array([f"r{replication}/{name}" for name in log.names.tolist()], pa.string())
    named = {
        "case:concept:name": text(case_codes, cases),
        "concept:name": events.cast(pa.string()),
        "time:timestamp": when(aware=True),
        "org:resource": processes.cast(pa.string()),
    }
    for name, column in reversed(named.items()):
        table = table.add_column(0, name, column)
    return table


def timeseries_table(
    rows: Sequence[tuple[object, ...]], replication: int, start: dt.date, csv: bool = True
) -> pa.Table:
    """The timeseries rows (TIMESERIES_COLUMNS order), with the replication and a
    timestamp (text for ``csv``), as :func:`~dcsim.experiments.results.pack` makes them."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(TIMESERIES_COLUMNS)
    columns: dict[str, pa.Array] = {
        "replication": pa.array(np.full(len(rows), replication, dtype=np.int64))
    }
    for name, column in zip(TIMESERIES_COLUMNS, values, strict=True):
        kind = TIMESERIES_TYPES.get(name, "float64")
        if kind == "str":
            columns[name] = pa.array(column, type=pa.string())
        elif kind == "int64":
            columns[name] = pa.array(np.array(column, dtype=np.int64))
        else:
            numbers = np.array(column, dtype=np.float64)
            columns[name] = pa.array(numbers, mask=np.isnan(numbers))
        if name == "time_days":
            times = day_times(np.array(column, dtype=np.float64), start)
            columns["timestamp"] = iso_text(times) if csv else pa.array(times)
    return pa.table(columns)
