"""Tables as the CSV text dcsim writes: pandas' ``to_csv`` text, made a few times faster.

``to_csv`` formats and quotes value by value through the csv module; an event log of
the portfolio (~24,000 rows a replication) spent about a quarter of a worker's time
there. Here each column is formatted once: text columns through their distinct values
(a log repeats a few hundred names), numbers by ``repr`` (pandas' shortest round-trip
text), and rows are joined with ``str.join``. The text is pandas' own, byte for byte
(``tests/test_csv_text.py`` checks it under hypothesis against ``to_csv``); any frame
this does not know how to write that way is handed to pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["csv_text", "iso_dates"]


def csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """``frame`` without its index, ``\\n`` line ends, timestamps as ISO dates, missing
    values empty: a streamed table is its header and then each replication's rows, the
    same text as the whole table at once."""
    frame = iso_dates(frame)
    columns = [_column_text(frame[name]) for name in frame.columns] if frame.shape[1] > 1 else None
    if columns is None or any(column is None for column in columns):
        return str(frame.to_csv(index=False, header=header, lineterminator="\n"))
    head = _quoted([str(name) for name in frame.columns]) if header else None
    if head is None and header:
        return str(frame.to_csv(index=False, header=header, lineterminator="\n"))
    lines = [",".join(head)] if head is not None else []
    lines.extend(map(",".join, zip(*columns, strict=True)))
    return "\n".join(lines) + "\n" if lines else ""


def iso_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as YYYY-MM-DDTHH:MM:SS text (+00:00 after it if timezone-aware),
    empty where missing.

    The same text as ``to_csv(date_format=...)``, which formats one value at a time
    (a quarter of the time of writing an event log); NumPy formats the whole column.
    """
    dates = [name for name, dtype in frame.dtypes.items() if dtype.kind == "M"]
    if not dates:
        return frame
    out = frame.copy(deep=False)
    for name in dates:
        column = frame[name]
        aware = isinstance(column.dtype, pd.DatetimeTZDtype)
        if aware:  # written as UTC with its offset (pm4py's time:timestamp)
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        values = column.to_numpy(dtype="datetime64[ns]")
        text = np.datetime_as_string(values, unit="s").astype(object)
        if aware:
            text = text + "+00:00"
        text[np.isnat(values)] = ""
        out[name] = text
    return out


def _column_text(column: pd.Series) -> list[str] | None:
    """Each value's CSV field, as pandas writes it; None if this column is pandas' to write."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        if dtype.kind == "b":
            return ["True" if value else "False" for value in column.tolist()]
        return list(map(str, column.tolist()))
    if dtype == np.float64:  # repr of a float32's double is not its own shortest text
        values = column.to_numpy()
        text = list(map(repr, values.tolist()))
        for missing in np.flatnonzero(np.isnan(values)).tolist():
            text[missing] = ""
        return text
    if isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype)) or dtype is np.dtype(object):
        codes, distinct = pd.factorize(column, use_na_sentinel=True)
        names = list(distinct.astype(object)) if len(distinct) else []
        if not all(isinstance(name, str) for name in names):
            return None  # numbers or objects among text: their formatting is pandas'
        fields = _quoted(names)
        if fields is None:
            return None
        lookup: Any = np.array([*fields, ""], dtype=object)  # code -1 (missing) -> ""
        return list(lookup[codes].tolist())
    return None


def _quoted(names: list[str]) -> list[str] | None:
    """Fields for ``names`` as the csv module quotes them (minimal: only a field holding a
    comma, a quote or a line break); None if one holds a carriage return, whose quoting
    differs between Python versions."""
    fields = []
    for name in names:
        if "\r" in name:
            return None
        if "," in name or '"' in name or "\n" in name:
            name = '"' + name.replace('"', '""') + '"'
        fields.append(name)
    return fields
