"""``dcsim run`` into a folder: each replication's rows are written as they arrive.

The parent never holds the event log or the timeseries. A worker formats its
replication's rows (CSV text, or a typed table for Parquet) and sends them with
its summary (a worker of the local pool writes CSV text to a file in the working
folder and sends its name: :class:`Spooled`); the parent appends them, in
replication order, to files in ``.dcsim-partial/`` and keeps only the summaries
(a few rows per replication), from which stats, S-curves, migration and funnel
are computed at the end. Then every table is moved into place and run.json
written last, so a reader never sees half a file. A run killed midway is taken up
by ``--resume`` (:mod:`dcsim.output.checkpoint`); what it writes is the same, byte
for byte.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from dcsim.errors import DcsimError
from dcsim.experiments.results import (
    RunResult,
    SummaryParts,
    derive,
    empty_tables,
    event_frame,
    summary_parts,
)
from dcsim.experiments.statistics import prepare
from dcsim.experiments.tasks import execute, on_local_pool
from dcsim.input.dump import to_document
from dcsim.input.spec import Scenario
from dcsim.model.simulation import ReplicationResult, simulate
from dcsim.output.arrow_tables import event_tables, timeseries_table
from dcsim.output.checkpoint import Checkpoint
from dcsim.output.csv_text import csv_bytes
from dcsim.output.export import OCEL_FILE, Layout, place_tables
from dcsim.output.process_mining import ocel_parts, write_ocel

STREAMED = ("events", "events_background", "timeseries")  # written a replication at a time
OCEL_PARTS = ("ocel_events", "ocel_objects")  # ocel.json's two lists, streamed the same way
SPOOL_FOLDER = "spool"  # in the working folder: rows a pool worker wrote (see Spooled)


# The form of what a run's checkpoint keeps (a _Done a replication): 2 since a
# replication's summary, migration and funnel became plain rows (SummaryParts). Raise it
# whenever _Done or SummaryParts change shape (tests/test_streaming.py pins their fields).
CHECKPOINT_FORMAT = 2


@dataclasses.dataclass
class _Done:
    """What the checkpoint keeps of a finished replication."""

    small: SummaryParts  # its events and timeseries are on disk
    offsets: dict[str, int]  # each streamed CSV's size once this replication was appended


@dataclasses.dataclass(frozen=True)
class Spooled:
    """Rows a pool worker wrote to a file in the run's working folder, for the parent to
    append, rather than send them through the pipe: a replication's CSV rows are ~3.6 MB,
    and pickling them, sending them and unpickling them took more CPU than writing and
    reading a file (worker 1.8 -> 0.7 ms, parent 4.4 -> 3.3 ms a replication)."""

    path: str

    def take(self) -> bytes:
        """The rows; the file is removed."""
        path = Path(self.path)
        try:
            rows = path.read_bytes()
            path.unlink()
        except OSError as exc:
            raise DcsimError(
                f"{path}: a worker's rows could not be read back ({exc.strerror or exc}); no"
                f" table was placed. The replications finished before it are kept: run the"
                " same command with --resume."
            ) from None
        return rows


def replication_task(
    task: tuple[Scenario, int, Layout, str | None],
) -> tuple[SummaryParts, dict[str, Any]]:
    """In the worker: the replication's summary parts, and its rows ready to append (with,
    for CSV, each table's header line). No pandas frame is made of its rows. With a
    ``spool`` folder (a pool on this machine), rows of text go there (see Spooled)."""
    scenario, replication, layout, spool = task
    small, rows = packed(scenario, simulate(scenario, replication), layout)
    if spool is not None:
        for name, value in rows.items():
            if isinstance(value, bytes) and value:
                rows[name] = _spool(Path(spool) / f"r{replication}.{name}", value)
    return small, rows


def _spool(path: Path, rows: bytes) -> Spooled:
    try:
        path.write_bytes(rows)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise DcsimError(
            f"{path}: could not be written ({exc.strerror or exc}); no table was placed in"
            f" {path.parent.parent.parent}/. The replications finished before it are kept:"
            " make room, then run the same command with --resume."
        ) from None
    return Spooled(str(path))


def packed(
    scenario: Scenario, result: ReplicationResult, layout: Layout
) -> tuple[SummaryParts, dict[str, Any]]:
    """What :func:`replication_task` sends back of a simulated replication."""
    replication = result.replication
    csv = layout.fmt == "csv"
    start = scenario.start_date
    tables = {
        **event_tables(result.log, replication, start, background=layout.background,
                       pm4py=layout.events_format == "pm4py", csv=csv),
        "timeseries": timeseries_table(result.timeseries, replication, start, csv),
    }  # fmt: skip
    rows: dict[str, Any] = dict(tables)
    if csv:
        rows = {name: csv_bytes(table, header=False) for name, table in tables.items()}
        rows["headers"] = {name: csv_bytes(table.slice(0, 0)) for name, table in tables.items()}
    if layout.ocel:
        kept = result.log if layout.background else result.log.take(~result.log.background)
        rows["ocel_events"], rows["ocel_objects"] = ocel_parts(
            event_frame(replication, kept, scenario), scenario
        )
    return summary_parts(result, scenario), rows


class _CsvStream:
    """One CSV, a header and then each replication's rows, appended in order (or one of
    ocel.json's lists, its items appended in order, with no header)."""

    def __init__(self, path: Path, offset: int | None) -> None:
        self.path = path
        placed = path.parent.parent / path.name
        if offset is not None and not path.exists() and placed.exists():
            os.replace(placed, path)  # moved into place by a run stopped while finishing
        self.handle: BinaryIO = path.open("r+b" if offset is not None else "wb")
        # The file's SHA-256 for run.json, taken as it is written (not read again at the end).
        self.sha256 = hashlib.sha256()
        self.size = 0  # its size once closed
        if offset is not None:
            self.handle.truncate(offset)  # rows of a replication the checkpoint never kept
            self.handle.seek(0)
            self.sha256 = hashlib.file_digest(self.handle, "sha256")  # type: ignore[arg-type]
            self.handle.seek(offset)

    def append(self, replication: int, header: bytes, rows: bytes | Spooled) -> int:
        if isinstance(rows, Spooled):
            rows = rows.take()
        if self.handle.tell() == 0:
            self.handle.write(header)
            self.sha256.update(header)
        self.handle.write(rows)
        self.sha256.update(rows)
        self.handle.flush()  # before the checkpoint records it: a SIGKILL loses no row
        return self.handle.tell()

    def record(self) -> dict[str, object] | None:
        """run.json's record of the file as written: its size and SHA-256."""
        return {"bytes": self.size, "sha256": self.sha256.hexdigest()}

    def close(self) -> None:
        self.size = self.handle.tell()
        self.handle.close()

    def finish(self) -> Path:
        return self.path


class _ParquetStream:
    """One Parquet file per replication, joined into one (a row group each) at the end."""

    def __init__(self, path: Path, offset: int | None) -> None:
        self.path = path
        self.pieces = path.parent / path.stem

    def append(self, replication: int, header: bytes, rows: pa.Table) -> int:
        import pyarrow.parquet as pq  # here: a CSV run need not import it

        self.pieces.mkdir(exist_ok=True)
        pq.write_table(rows, self.pieces / f"{replication:07d}.parquet")
        return 0

    def close(self) -> None:
        pass

    def record(self) -> dict[str, object] | None:
        return None  # the pieces are joined at the end: read then

    def finish(self) -> Path:
        import pyarrow.parquet as pq

        pieces = sorted(self.pieces.glob("*.parquet"))
        # A column that is empty in one replication is typed null there: unify first.
        schema = pa.unify_schemas([pq.read_schema(p) for p in pieces],
                                  promote_options="permissive")  # fmt: skip
        schema = schema.remove_metadata()
        with pq.ParquetWriter(self.path, schema) as writer:
            for piece in pieces:
                writer.write_table(pq.read_table(piece).cast(schema))
        return self.path


def identity(
    scenario: Scenario, replications: int, layout: Layout, overrides: list[str]
) -> dict[str, Any]:
    """What defines a run's output: a resumed run must have the same."""
    from dcsim.output.export import version

    return {"command": "run", "dcsim_version": version(), "replications": replications,
            "format": layout.fmt, "background_events": layout.background,
            "events_format": layout.events_format, "ocel": layout.ocel,
            "overrides": overrides, "spec": to_document(scenario)}  # fmt: skip


def run_into(
    scenario: Scenario,
    folder: Path,
    *,
    replications: int,
    layout: Layout,
    checkpoint: Checkpoint,
    workers: int | None,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
    run_info: Callable[[], dict[str, Any]],
) -> tuple[RunResult, list[Path]]:
    """Run ``scenario`` (horizon and seed settled) into ``folder``; the run's small tables
    (its events and timeseries empty: they are on disk) and the paths written."""
    fmt = layout.fmt
    table_stream = _CsvStream if fmt == "csv" else _ParquetStream
    done: dict[int, _Done] = {}
    for value in checkpoint.known.values():
        done[value.small.replication] = value
    finished = 0  # the replications kept in order from the start: the rest run again
    while finished in done:
        finished += 1
    last = done.get(finished - 1)
    names = STREAMED + (OCEL_PARTS if layout.ocel else ())
    streams: dict[str, _CsvStream | _ParquetStream] = {}
    for name in names:
        offset = last.offsets[name] if last else None
        if name in OCEL_PARTS:
            streams[name] = _CsvStream(checkpoint.store / f"{name}.part", offset)
        else:
            streams[name] = table_stream(checkpoint.store / f"{name}.{fmt}", offset)
    known: dict[str, Any] = {f"r{index}": None for index in range(finished)}
    smalls = [done[index].small for index in range(finished)]

    def keep(key: str, result: tuple[SummaryParts, dict[str, Any]]) -> SummaryParts:
        """Append the rows to disk; the replication's summary parts, what stays in memory."""
        small, rows = result
        offsets = {}
        headers = rows.get("headers", {})
        for name in names:
            try:
                offsets[name] = streams[name].append(small.replication, headers.get(name, b""),
                                                     rows[name])  # fmt: skip
            except OSError as exc:
                raise DcsimError(
                    f"{folder / f'{name}.{fmt}'}: could not be written ({exc.strerror or exc});"
                    f" no table was placed in {folder}/. The {checkpoint.finished}"
                    " replication(s) finished before it are kept: make room, then run the same"
                    " command with --resume."
                ) from None
        checkpoint.save(key, _Done(small, offsets))
        return small

    spool = None
    if fmt == "csv" and on_local_pool(workers, scheduler):
        spool = checkpoint.store / SPOOL_FOLDER
        # What an interrupted run left there was never appended (those replications run
        # again): nothing in it is needed, and it may hold space a full disk wants back.
        shutil.rmtree(spool, ignore_errors=True)
        spool.mkdir()
    tasks: list[tuple[str, Any]] = [
        (f"r{index}", (scenario, index, layout, spool and str(spool)))
        for index in range(replications)
    ]
    try:
        # Each result is appended to disk and dropped: only its summary parts stay.
        for key, each in execute(replication_task, tasks, workers=workers, scheduler=scheduler,
                                 known=known, progress=progress, meanwhile=prepare):  # fmt: skip
            if key not in known:
                smalls.append(keep(key, each))
            del each
    finally:
        for open_stream in streams.values():
            open_stream.close()
    # Taken now, so that run.json's simulation time leaves out the finishing below.
    info = {**run_info(), "command_line": sys.argv}
    written = {name: streams[name].finish() for name in STREAMED}
    records = {name: record for name in STREAMED if (record := streams[name].record())}
    extras = [_finish_ocel(checkpoint.store)] if layout.ocel else []
    tables = derive(scenario, smalls)
    result = RunResult(
        scenario, replications, *empty_tables(), tables.summary, tables.stats, frozenset(),
        tables.scurves, tables.migration, tables.funnel,
    )  # fmt: skip
    frames = {field.name: getattr(tables, field.name) for field in dataclasses.fields(tables)}
    paths = place_tables(result, folder, fmt, frames, written, info, extras, records)
    return result, paths


def _finish_ocel(store: Path) -> Path:
    """ocel.json from its streamed parts, in the working folder (moved in with the tables)."""
    path = store / OCEL_FILE
    with path.open("wb") as handle:
        write_ocel(handle, store / "ocel_events.part", store / "ocel_objects.part")
    return path
