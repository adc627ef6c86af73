"""A replication's event log as columns: built once at the end of a run, read by every export.

Most rows are logged one at a time, as :class:`~dcsim.model.events.EventRow` tuples
(a site's changes, an agreement, an upgrade). The studies of a serial region's
background requests — nine rows in ten of a portfolio's log — are logged by the
thousand as an :class:`EventBlock` of arrays, with no Python object per row.
:meth:`EventLog.build` merges both into one table of arrays in log order: by time, and
rows of one time in the order they were logged. Each row knows when it was logged: its
own time, or earlier for a row logged ahead (a background request's studies are worked
out when it arrives, a background request's energization when it signs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dcsim.model.events import Event, EventRow, Process

EVENTS: tuple[Event, ...] = tuple(Event)
PROCESSES: tuple[Process, ...] = tuple(Process)
# The process of each event code: a row's process follows from its event.
PROCESS_OF = np.array([PROCESSES.index(event.process) for event in EVENTS], dtype=np.int8)
_NEW_ROW = tuple.__new__
_NAN = float("nan")  # one object for every missing quantity: equal logs give equal rows


@dataclass(frozen=True)
class EventBlock:
    """Many rows as arrays. Text columns are codes into ``strings``, the block's own."""

    time: np.ndarray  # float64, days
    event: np.ndarray  # codes into EVENTS
    quantity: np.ndarray  # float64; NaN where the row has none
    site: np.ndarray  # codes into strings (and so are obj, unit and detail)
    obj: np.ndarray
    unit: np.ndarray
    detail: np.ndarray
    strings: Sequence[str]
    background: np.ndarray  # bool
    logged: np.ndarray  # float64: the day each row was logged (its time, or earlier)

    def __len__(self) -> int:
        return len(self.time)

    @staticmethod
    def of_rows(rows: Sequence[EventRow], ahead: dict[int, float]) -> EventBlock:
        """Rows logged one at a time, as a block (each row's strings its own); ``ahead``
        gives the day a row was logged where that is not its own time (by position)."""
        time, site, _, event, obj, quantity, unit, detail, background = zip(*rows, strict=True)
        count = len(rows)
        codes = np.arange(4 * count, dtype=np.int64).reshape(4, count)
        times = np.array(time, dtype=np.float64)
        logged = times.copy()
        if ahead:
            logged[list(ahead)] = list(ahead.values())
        return EventBlock(
            time=times,
            event=np.array([e.code for e in event], dtype=np.int16),
            quantity=np.array(quantity, dtype=np.float64),
            site=codes[0],
            obj=codes[1],
            unit=codes[2],
            detail=codes[3],
            strings=[*site, *obj, *unit, *detail],
            background=np.array(background, dtype=bool),
            logged=logged,
        )


@dataclass(frozen=True)
class EventLog:
    """Rows of a replication as columns, in log order. Text columns are codes into
    ``names`` (one table for site, object, unit and detail)."""

    time: np.ndarray  # float64, days
    event: np.ndarray  # int16 codes into EVENTS
    quantity: np.ndarray
    site: np.ndarray  # int32 codes into names
    obj: np.ndarray
    unit: np.ndarray
    detail: np.ndarray
    background: np.ndarray  # bool
    names: np.ndarray  # object array of str

    def __len__(self) -> int:
        return len(self.time)

    @staticmethod
    def build(
        rows: Sequence[EventRow],
        blocks: Sequence[EventBlock],
        until: float,
        ahead: dict[int, float] | None = None,
    ) -> EventLog:
        """The blocks and rows with a time before ``until``, merged in log order: by time,
        then by the day each was logged (``ahead``: a row's, by position, where that is
        not its time), then blocks before rows, each in its own order."""
        parts = [*blocks, EventBlock.of_rows(rows, ahead or {})] if rows else list(blocks)
        # Each text its code, in the order texts first appear (a missing one, None, a name
        # of its own), as pandas' factorize gave them: a dict keeps the model's log free of
        # pandas, at the same cost (measured: what the object array and the factorize took,
        # turning the codes into an array takes back).
        index: dict[str | None, int] = {}
        coded = [index.setdefault(text, len(index)) for part in parts for text in part.strings]
        codes = np.fromiter(coded, dtype=np.int32, count=len(coded))
        columns: dict[str, list[np.ndarray]] = {key: [] for key in (*_COLUMNS, "logged")}
        offset = 0
        for part in parts:
            own = codes[offset : offset + len(part.strings)]
            offset += len(part.strings)
            keep = part.time < until
            columns["time"].append(part.time[keep])
            columns["event"].append(part.event[keep].astype(np.int16))
            columns["quantity"].append(part.quantity[keep])
            for key in ("site", "obj", "unit", "detail"):
                columns[key].append(own[getattr(part, key)[keep]])
            columns["background"].append(part.background[keep])
            columns["logged"].append(part.logged[keep])
        if not parts:
            return EventLog.empty()
        merged = {key: np.concatenate(value) for key, value in columns.items()}
        order = np.lexsort((merged.pop("logged"), merged["time"]))  # stable: ties in order
        names = np.fromiter(index, dtype=object, count=len(index))
        return EventLog(**{key: value[order] for key, value in merged.items()}, names=names)

    @staticmethod
    def empty() -> EventLog:
        codes = np.zeros(0, dtype=np.int32)
        nothing = np.zeros(0)
        return EventLog(nothing, codes.astype(np.int16), nothing, codes, codes, codes, codes,
                        np.zeros(0, dtype=bool), np.array([], dtype=object))  # fmt: skip

    def take(self, index: np.ndarray) -> EventLog:
        """The rows at ``index`` (positions or a boolean mask), in that order."""
        return EventLog(self.time[index], self.event[index], self.quantity[index],
                        self.site[index], self.obj[index], self.unit[index], self.detail[index],
                        self.background[index], self.names)  # fmt: skip

    def text(self, codes: np.ndarray) -> np.ndarray:
        """The strings of ``codes``, as an object array."""
        return self.names[codes] if len(codes) else np.array([], dtype=object)

    def rows(self) -> list[EventRow]:
        """The log as EventRow tuples (for checks and small uses: one object per row)."""
        events = [EVENTS[code] for code in self.event.tolist()]
        # A missing quantity is the one NaN every row logged without one has.
        quantities = [q if q == q else _NAN for q in self.quantity.tolist()]
        return [
            _NEW_ROW(
                EventRow,
                (time, site, event.process, event, obj, quantity, unit, detail, background),
            )
            for time, site, event, obj, quantity, unit, detail, background in zip(
                self.time.tolist(),
                self.text(self.site).tolist(),
                events,
                self.text(self.obj).tolist(),
                quantities,
                self.text(self.unit).tolist(),
                self.text(self.detail).tolist(),
                self.background.tolist(),
                strict=True,
            )
        ]


_COLUMNS = ("time", "event", "quantity", "site", "obj", "unit", "detail", "background")


class Recorder:
    """Append-only event log of one replication.

    Rows logged one at a time go to ``rows``. A producer that logs many rows at once
    (a serial region's background studies) registers a source: called with a time, it
    logs what it has taken in before then as an
    :class:`EventBlock` of arrays, added to ``blocks``.
    """

    def __init__(self) -> None:
        self.rows: list[EventRow] = []
        self.ahead: dict[int, float] = {}  # rows logged before their time: position -> day
        self.blocks: list[EventBlock] = []
        self._sources: list[Callable[[float], EventBlock | None]] = []

    def event(
        self,
        time: float,
        site: str,
        event: Event,
        obj: str,
        quantity: float = float("nan"),
        unit: str = "",
        detail: str = "",
        background: bool = False,
        logged: float | None = None,
    ) -> None:
        """Log a row; ``logged``: the day it is logged on, if before its ``time``."""
        # Without NamedTuple's Python-level __new__: a site logs thousands of rows a run.
        row = _NEW_ROW(
            EventRow, (time, site, event.process, event, obj, quantity, unit, detail, background)
        )
        self.add(row, logged)

    def add(self, row: EventRow, logged: float | None = None) -> None:
        """Log ``row``, on day ``logged`` if that is not its own time."""
        if logged is not None and logged != row.time_days:
            self.ahead[len(self.rows)] = logged
        self.rows.append(row)

    def add_source(self, source: Callable[[float], EventBlock | None]) -> None:
        """``source(until)`` logs, as a block, its rows of what happened before ``until``."""
        self._sources.append(source)

    def release(self) -> None:
        """Let go of the rows, blocks and sources once the log is built (see simulate).
        Emptied in place: the queues append to ``rows`` itself."""
        for held in (self.rows, self.blocks, self.ahead, self._sources):
            held.clear()

    def collect(self, until: float) -> None:
        """Ask every source for its rows of what happened before ``until`` (and before
        now: a source logs nothing of what has not happened)."""
        for source in self._sources:
            block = source(until)
            if block is not None and len(block):
                self.blocks.append(block)

    def log(self, until: float = math.inf) -> EventLog:
        """Every row so far with a time before ``until``, as columns in log order
        (collect first for the sources' rows)."""
        return EventLog.build(self.rows, self.blocks, until, self.ahead)

    def all_rows(self, now: float) -> list[EventRow]:
        """Every row of what happened before ``now``, sources' included, as tuples in log
        order (rows logged ahead of their time too): for checks on a bare queue."""
        self.collect(now)
        return self.log().rows()
