"""Reading a run folder back, and refusing one that is not what dcsim wrote.

``run.json`` records every table a run wrote with its size and SHA-256, so a
file cut short, edited or swapped afterwards is refused with a message that
says so, instead of a report drawn from damaged data. Each table must also
have the columns dcsim writes and at least one row.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dcsim.errors import DcsimError

if TYPE_CHECKING:
    import pandas as pd

# Names stay text: a site called "NA" or "001" must not become NaN or 1.
TEXT_COLUMNS = (
    "site", "variant", "metric", "object", "event", "process", "unit", "detail",
    "binding_layer", "layer_removed", "removed_so_far", "binds_next",
)  # fmt: skip


def file_record(path: Path) -> dict[str, object]:
    """What run.json keeps of a written file: its size and SHA-256."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def required_columns() -> dict[str, tuple[str, ...]]:
    """The columns each run table must have, by file stem."""
    from dcsim.experiments.statistics import STATS_COLUMNS
    from dcsim.model.events import EVENT_COLUMNS
    from dcsim.model.records import SiteRecord
    from dcsim.model.simulation import TIMESERIES_COLUMNS

    return {
        "events": EVENT_COLUMNS,
        "timeseries": ("replication", "timestamp", *TIMESERIES_COLUMNS),
        "summary": ("replication", *SiteRecord.columns()),
        "stats": STATS_COLUMNS,
    }


def read_run_info(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    if not path.exists():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DcsimError(
            f"{path}: not valid JSON ({exc}); rerun dcsim run to rewrite it."
        ) from None
    return info if isinstance(info, dict) else {}


def _check_recorded(path: Path, info: dict[str, Any]) -> None:
    recorded = info.get("files", {}).get(path.name)
    if not isinstance(recorded, dict):
        return  # written by an older dcsim, or not a run table
    if file_record(path) != recorded:
        size = path.stat().st_size
        raise DcsimError(
            f"{path}: is not the file dcsim wrote ({size:,} bytes now, {recorded['bytes']:,}"
            " recorded in run.json, or the same size with other contents): it was cut short"
            " or changed. Rerun dcsim run to write it again."
        )


def read_table(folder: Path, name: str, required: bool = True) -> pd.DataFrame | None:
    """One table of ``folder`` (CSV, or Parquet when that is what the run wrote), checked."""
    # Here, not at the top: every dcsim command reaches this module (through the
    # checkpoint's run.json), and `dcsim check` or `--help` should not wait for pandas.
    import pandas as pd

    path = folder / name
    parquet = path.with_suffix(".parquet")
    if not path.exists() and parquet.exists():  # a run written with --format parquet
        path = parquet
    if not path.exists():
        if required:
            raise DcsimError(
                f"{path}: missing; dcsim report needs a folder written by"
                " dcsim run (events.csv, timeseries.csv, summary.csv, stats.csv)."
            )
        return None
    _check_recorded(path, read_run_info(folder))
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(
                path, dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, na_values=[""]
            )
    except (ImportError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError,
            UnicodeDecodeError, ValueError) as exc:  # fmt: skip
        raise DcsimError(
            f"{path}: cannot be read as a dcsim table ({exc}); was it"
            " written by dcsim and left unchanged?"
        ) from None
    expected = required_columns().get(path.stem)
    if expected is not None:
        missing = [c for c in expected if c not in frame.columns]
        if missing:
            raise DcsimError(
                f"{path}: lacks the column(s) {', '.join(missing)} that dcsim writes; was it"
                " written by another version of dcsim, or edited? Rerun dcsim run."
            )
        if frame.empty:
            raise DcsimError(f"{path}: holds no rows; rerun dcsim run to write it again.")
    return frame
