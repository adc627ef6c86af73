"""``dcsim run`` into a folder: each replication's rows are written as they arrive.

The parent never holds the event log or the timeseries. A worker formats its
replication's rows (CSV text, or a typed table for Parquet) and sends them with
its summary; the parent appends them, in replication order, to files in
``.dcsim-partial/`` and keeps only the summaries (a few rows per replication),
from which stats, S-curves, migration and funnel are computed at the end. Then
every table is moved into place and run.json written last, so a reader never
sees half a file. A run killed midway is taken up by ``--resume``
(:mod:`dcsim.output.checkpoint`); what it writes is the same, byte for byte.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from dcsim.errors import DcsimError
from dcsim.experiments.results import PackedReplication, RunResult, derive
from dcsim.experiments.runner import replicate
from dcsim.experiments.tasks import execute
from dcsim.input.dump import to_document
from dcsim.input.spec import Scenario
from dcsim.model.layers import Layer
from dcsim.output.checkpoint import Checkpoint
from dcsim.output.export import csv_text, place_tables

STREAMED = ("events", "timeseries")  # the tables written a replication at a time


@dataclasses.dataclass
class _Done:
    """What the checkpoint keeps of a finished replication."""

    small: PackedReplication  # its events and timeseries emptied: they are on disk
    offsets: dict[str, int]  # each streamed CSV's size once this replication was appended


def _task(
    task: tuple[Scenario, int, frozenset[Layer], bool, str],
) -> tuple[PackedReplication, dict[str, Any]]:
    """In the worker: the replication's summary parts, and its rows ready to append."""
    scenario, replication, relaxed, background, fmt = task
    packed = replicate((scenario, replication, relaxed, background))
    rows: dict[str, Any] = {"events": packed.events, "timeseries": packed.timeseries}
    if fmt == "csv":
        rows = {name: csv_text(frame, header=False).encode() for name, frame in rows.items()}
    small = dataclasses.replace(
        packed, events=_empty_like(packed.events), timeseries=_empty_like(packed.timeseries)
    )
    return small, rows


def _empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    """No rows, the same columns and types; built afresh, since an empty slice of a frame
    keeps the whole frame's memory alive (2-3 MB a replication of the portfolio)."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in frame.dtypes.items()})


class _CsvStream:
    """One CSV, a header and then each replication's rows, appended in order."""

    def __init__(self, path: Path, offset: int | None) -> None:
        self.path = path
        placed = path.parent.parent / path.name
        if offset is not None and not path.exists() and placed.exists():
            os.replace(placed, path)  # moved into place by a run stopped while finishing
        self.handle: BinaryIO = path.open("r+b" if offset is not None else "wb")
        if offset is not None:
            self.handle.truncate(offset)  # rows of a replication the checkpoint never kept
            self.handle.seek(offset)

    def append(self, replication: int, header: pd.DataFrame, rows: bytes) -> int:
        if self.handle.tell() == 0:
            self.handle.write(csv_text(header).encode())
        self.handle.write(rows)
        self.handle.flush()  # before the checkpoint records it: a SIGKILL loses no row
        return self.handle.tell()

    def close(self) -> None:
        self.handle.close()

    def finish(self) -> Path:
        return self.path


class _ParquetStream:
    """One Parquet file per replication, joined into one (a row group each) at the end."""

    def __init__(self, path: Path, offset: int | None) -> None:
        self.path = path
        self.pieces = path.parent / path.stem

    def append(self, replication: int, header: pd.DataFrame, rows: pd.DataFrame) -> int:
        self.pieces.mkdir(exist_ok=True)
        rows.to_parquet(self.pieces / f"{replication:07d}.parquet", index=False)
        return 0

    def close(self) -> None:
        pass

    def finish(self) -> Path:
        import pyarrow as pa
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
    scenario: Scenario, replications: int, fmt: str, background: bool, overrides: list[str]
) -> dict[str, Any]:
    """What defines a run's output: a resumed run must have the same."""
    from dcsim.output.export import version

    return {"command": "run", "dcsim_version": version(), "replications": replications,
            "format": fmt, "background_events": background, "overrides": overrides,
            "spec": to_document(scenario)}  # fmt: skip


def run_into(
    scenario: Scenario,
    folder: Path,
    *,
    replications: int,
    fmt: str,
    include_background: bool,
    checkpoint: Checkpoint,
    workers: int | None,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
    run_info: Callable[[], dict[str, Any]],
) -> tuple[RunResult, list[Path]]:
    """Run ``scenario`` (horizon and seed settled) into ``folder``; the run's small tables
    (its events and timeseries empty: they are on disk) and the paths written."""
    stream = _CsvStream if fmt == "csv" else _ParquetStream
    done: dict[int, _Done] = {}
    for value in checkpoint.known.values():
        done[value.small.replication] = value
    finished = 0  # the replications kept in order from the start: the rest run again
    while finished in done:
        finished += 1
    last = done.get(finished - 1)
    streams = {name: stream(checkpoint.store / f"{name}.{fmt}",
                            last.offsets[name] if last else None) for name in STREAMED}  # fmt: skip
    known: dict[str, Any] = {f"r{index}": None for index in range(finished)}
    smalls = [done[index].small for index in range(finished)]

    def keep(key: str, result: tuple[PackedReplication, dict[str, Any]]) -> PackedReplication:
        """Append the rows to disk; the replication's summary parts, what stays in memory."""
        small, rows = result
        offsets = {}
        for name in STREAMED:
            try:
                offsets[name] = streams[name].append(small.replication, getattr(small, name),
                                                     rows[name])  # fmt: skip
            except OSError as exc:
                raise DcsimError(
                    f"{folder / f'{name}.{fmt}'}: could not be written ({exc.strerror or exc});"
                    f" no table was placed in {folder}/. The {checkpoint.finished}"
                    " replication(s) finished before it are kept: make room, then run the same"
                    " command with --resume."
                ) from None
        checkpoint.save(key, _Done(small, offsets))
        if smalls:  # one empty table serves as every replication's: ~30 KB less each
            small = dataclasses.replace(small, events=smalls[0].events,
                                        timeseries=smalls[0].timeseries)  # fmt: skip
        return small

    tasks: list[tuple[str, Any]] = [
        (f"r{index}", (scenario, index, frozenset(), include_background, fmt))
        for index in range(replications)
    ]
    try:
        # Each result is appended to disk and dropped: only its summary parts stay.
        for key, each in execute(_task, tasks, workers=workers, scheduler=scheduler,
                                 known=known, progress=progress):  # fmt: skip
            if key not in known:
                smalls.append(keep(key, each))
            del each
    finally:
        for open_stream in streams.values():
            open_stream.close()
    # Taken now, so that run.json's simulation time leaves out the finishing below.
    info = {**run_info(), "command_line": sys.argv}
    written = {name: s.finish() for name, s in streams.items()}
    tables = derive(scenario, smalls)
    result = RunResult(
        scenario, replications, smalls[0].events, smalls[0].timeseries, tables.summary,
        tables.stats, frozenset(), tables.scurves, tables.migration, tables.funnel,
    )  # fmt: skip
    frames = {field.name: getattr(tables, field.name) for field in dataclasses.fields(tables)}
    paths = place_tables(result, folder, fmt, frames, written, info)
    return result, paths
