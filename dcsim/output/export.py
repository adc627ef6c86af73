"""Writing a run's tables to a folder: CSV or Parquet, each file atomically.

A folder that already holds files is refused unless ``force`` is given. Each
file is written under a temporary name and renamed when complete, so an
interrupted export (Ctrl-C included) leaves only whole files; the
:class:`ExportInterrupted` error says which were kept.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dcsim.errors import DcsimError
from dcsim.input.dump import to_document
from dcsim.input.spec import Scenario
from dcsim.output.atomic import atomic_write
from dcsim.output.folders import OCEL_WORK_FOLDER, prepare_folder
from dcsim.output.run_folder import file_record

if TYPE_CHECKING:
    import pandas as pd


class RunTables(Protocol):
    """What export needs of a run (a :class:`~dcsim.experiments.results.RunResult`)."""

    scenario: Scenario
    replications: int
    events: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    stats: pd.DataFrame
    scurves: pd.DataFrame
    migration: pd.DataFrame
    funnel: pd.DataFrame


TABLES = ("events", "events_background", "timeseries", "summary", "stats", "scurves",
          "migration", "funnel")  # fmt: skip
FORMATS = ("csv", "parquet")
OCEL_FILE = "ocel.json"


@dataclass(frozen=True)
class Layout:
    """What a run writes besides its tables' rows: the format, whether the background
    queue traffic is kept, the event logs' column names, and whether an OCEL 2.0 log is
    written (see :mod:`dcsim.output.process_mining`)."""

    fmt: str = "csv"
    background: bool = True
    events_format: str = "dcsim"  # or "pm4py": pm4py's four columns first
    ocel: bool = False


def event_logs(events: pd.DataFrame, layout: Layout) -> dict[str, pd.DataFrame]:
    """The two event logs of ``events``: the sites' own rows (events) and the background
    queue traffic (events_background, without rows when ``layout`` leaves it out)."""
    import numpy as np

    from dcsim.output.process_mining import with_pm4py_names

    background = events["background"].to_numpy()
    logs = {
        "events": events[~background].reset_index(drop=True),
        "events_background": events[background if layout.background else np.zeros_like(
            background)].reset_index(drop=True),
    }  # fmt: skip
    if layout.events_format == "pm4py":
        logs = {name: with_pm4py_names(log) for name, log in logs.items()}
    return logs


class ExportInterrupted(KeyboardInterrupt):
    """Raised when Ctrl-C stops an export; ``kept`` lists the files that are whole."""

    def __init__(self, kept: list[Path]) -> None:
        super().__init__(kept)
        self.kept = kept


def version() -> str:
    try:
        return metadata.version("dcsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def write_tables(
    result: RunTables,
    folder: Path,
    fmt: str = "csv",
    *,
    force: bool = False,
    include_background: bool = True,
    events_format: str = "dcsim",
    ocel: bool = False,
    run_info: dict[str, Any] | None = None,
) -> list[Path]:
    """Write every table of TABLES and run.json (and ocel.json if asked); return the paths
    written."""
    if fmt not in FORMATS:
        raise DcsimError(f"format {fmt!r} is not known; expected one of {', '.join(FORMATS)}.")
    if events_format not in ("dcsim", "pm4py"):
        raise DcsimError(f"events format {events_format!r} is not known; expected dcsim or pm4py.")
    layout = Layout(fmt, include_background, events_format, ocel)
    prepare_folder(folder, force)
    extras = [_ocel_file(result, folder, layout)] if ocel else []
    frames = {
        **event_logs(result.events, layout),
        "timeseries": result.timeseries,
        "summary": result.summary,
        "stats": result.stats,
        "scurves": result.scurves,
        "migration": result.migration,
        "funnel": result.funnel,
    }
    try:
        return place_tables(result, folder, fmt, frames, {}, run_info or {}, extras)
    finally:
        if extras:
            shutil.rmtree(extras[0].parent, ignore_errors=True)  # the OCEL's working folder


def _ocel_file(result: RunTables, folder: Path, layout: Layout) -> Path:
    """ocel.json of ``result``, written whole beside the folder's tables (a hidden name
    until :func:`place_tables` moves it in with them)."""
    from dcsim.output.process_mining import ocel_parts, write_ocel

    events = result.events
    if not layout.background:
        events = events[~events["background"].to_numpy()]
    parts = folder / OCEL_WORK_FOLDER
    parts.mkdir(exist_ok=True)
    with (parts / "events").open("wb") as ocel_events, (parts / "objects").open("wb") as objs:
        for _, rows in events.groupby("replication", sort=True):
            event_text, object_text = ocel_parts(rows, result.scenario)
            ocel_events.write(event_text)
            objs.write(object_text)
    path = parts / OCEL_FILE
    with path.open("wb") as handle:
        write_ocel(handle, parts / "events", parts / "objects")
    return path


def place_tables(
    result: RunTables,
    folder: Path,
    fmt: str,
    frames: dict[str, pd.DataFrame],
    written: dict[str, Path],
    run_info: dict[str, Any],
    extras: Sequence[Path] = (),
    records: dict[str, dict[str, object]] | None = None,
) -> list[Path]:
    """Each table of TABLES into ``folder``, then the ``extras`` (files written whole
    elsewhere, moved in under their own names), then run.json: a table from ``frames``,
    or, if already written whole elsewhere (``written``, a streamed run), moved in;
    ``records`` has run.json's record (size, SHA-256) of those whose writer took it."""
    kept: list[Path] = []
    try:
        files: dict[str, object] = {}
        for name in TABLES:
            path = folder / f"{name}.{fmt}"
            if name in written:
                os.replace(written[name], path)
            else:
                _write_frame(frames[name], path, fmt)
            kept.append(path)
            known = (records or {}).get(name)
            files[path.name] = known if known is not None else file_record(path)
        for extra in extras:
            path = folder / extra.name
            os.replace(extra, path)
            kept.append(path)
            files[path.name] = file_record(path)
        path = folder / "run.json"
        record = run_record(result, {**run_info, "files": files})
        with atomic_write(path, force=True) as handle:
            json.dump(record, handle, indent=2, default=_json)
            handle.write("\n")
        kept.append(path)
    except KeyboardInterrupt:
        raise ExportInterrupted(kept) from None
    except DcsimError as exc:
        whole = ", ".join(p.name for p in kept) or "none"
        raise DcsimError(f"{exc} Files finished before it, kept whole: {whole}.") from None
    return kept


def csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """``frame`` as dcsim writes CSV (see :mod:`dcsim.output.csv_text`)."""
    from dcsim.output import csv_text as text

    return text.csv_text(frame, header=header)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One table as CSV, atomically, timestamps as ISO dates: how dcsim writes every CSV."""
    with atomic_write(path, force=True) as handle:
        handle.write(csv_text(frame))


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        write_csv(frame, path)
    else:
        with atomic_write(path, force=True, binary=True) as handle:
            frame.to_parquet(handle, index=False)


def run_record(result: RunTables, run_info: dict[str, Any]) -> dict[str, Any]:
    scenario = result.scenario
    return {
        "dcsim_version": version(),
        "status": "complete",
        "scenario": scenario.name,
        "source_file": scenario.source_file,
        "seed": scenario.seed,
        "replications": result.replications,
        "horizon_days": scenario.horizon_days,
        "command_line": run_info.get("command_line", sys.argv),
        **{k: v for k, v in run_info.items() if k != "command_line"},
        "spec": to_document(scenario),
    }


def _json(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def write_run_json(folder: Path, context: dict[str, Any]) -> Path:
    """run.json for a what-if: how it was made (scenario, replications, seed, version)."""
    record = {"dcsim_version": version(), "status": "complete", "command_line": sys.argv,
              **context}  # fmt: skip
    path = folder / "run.json"
    with atomic_write(path, force=True) as handle:
        json.dump(record, handle, indent=2, default=_json)
        handle.write("\n")
    return path
