"""dcsim's CSV reads back as the table it wrote, in any CSV reader, for every table it writes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings

from dcsim.output.csv_text import _with_t, csv_text, iso_text

# Text a log could hold, and the characters that CSV has to quote.
_TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t;é-_/0.')), max_size=6)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 0.1, 1e16, 1e-5, 123456789.123, 1e300, 5e-324, math.nan]
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 8))
    kinds = draw(st.lists(st.sampled_from(["int", "float", "bool", "str", "object", "category",
                                           "date"]), min_size=1, max_size=6))  # fmt: skip
    data = {}
    for position, kind in enumerate(kinds):
        name = f"{kind}_{position}" if draw(st.booleans()) else draw(_TEXT) + str(position)
        if kind == "int":
            data[name] = pd.Series(draw(st.lists(st.integers(-(2**62), 2**62), min_size=rows,
                                                 max_size=rows)), dtype="int64")  # fmt: skip
        elif kind == "float":
            data[name] = pd.Series(draw(st.lists(_FLOATS, min_size=rows, max_size=rows)),
                                   dtype="float64")  # fmt: skip
        elif kind == "bool":
            data[name] = pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
                                   dtype="bool")  # fmt: skip
        elif kind == "date":
            days = draw(st.lists(st.none() | st.floats(-3e4, 3e4), min_size=rows, max_size=rows))
            data[name] = pd.Series([pd.NaT if d is None else pd.Timestamp("2026-01-01")
                                    + pd.Timedelta(days=d) for d in days],
                                   dtype="datetime64[ns]")  # fmt: skip
        else:
            values = draw(st.lists(st.none() | _TEXT, min_size=rows, max_size=rows))
            dtype = {"str": "str", "object": object, "category": "category"}[kind]
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data)


def _expected(value: object, dtype: object) -> str:
    """The field a reader should get back for ``value`` of a column of ``dtype``."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.floor("s").strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)


@settings(max_examples=300, deadline=None)
@given(frames(), st.booleans())
def test_every_field_reads_back_as_written(frame: pd.DataFrame, header: bool) -> None:
    text = csv_text(frame, header=header)
    # A one-column row whose value is missing is an empty line, which readers skip or
    # read as no field: one empty field is what it holds.
    records = [r or [""] for r in csv.reader(io.StringIO(text, newline=""))]
    if header:
        assert records[0] == [str(c) for c in frame.columns]
        records = records[1:]
    assert len(records) == len(frame)
    for position, record in enumerate(records):
        assert len(record) == frame.shape[1]
        for field, name in zip(record, frame.columns, strict=True):
            value, dtype = frame[name].iloc[position], frame[name].dtype
            if dtype.kind == "f" and field not in ("",):
                assert float(field) == value or (math.isnan(value) and field == "")
                assert math.copysign(1.0, float(field)) == math.copysign(1.0, value)
            else:
                assert field == _expected(value, dtype), (name, value, field)


def test_the_text_by_hand() -> None:
    frame = pd.DataFrame({"name": ["plain", "a,b", 'say "hi"', "two\nlines", None, ""],
                          "mw": [1.0, 0.1, math.nan, 1e16, -0.0, math.inf],
                          "on": [True, False, True, False, True, False],
                          "n": [1, 2, 3, 4, 5, 6]})  # fmt: skip
    assert csv_text(frame) == (
        '"name","mw","on","n"\n'
        '"plain",1,true,1\n'
        '"a,b",0.1,false,2\n'
        '"say ""hi""",,true,3\n'
        '"two\nlines",1e+16,false,4\n'
        ",-0,true,5\n"
        '"",inf,false,6\n'
    )


def test_pandas_reads_the_tables_types_back() -> None:
    frame = pd.DataFrame({"site": ["ashburn", "a,b"], "mw": [1.5, math.nan],
                          "background": [True, False], "replication": [0, 1],
                          "when": pd.to_datetime(["2025-01-01T06:00:00", None])})  # fmt: skip
    back = pd.read_csv(io.StringIO(csv_text(frame)), parse_dates=["when"])
    assert back["site"].tolist() == ["ashburn", "a,b"]
    assert back["mw"].iloc[0] == 1.5 and math.isnan(back["mw"].iloc[1])
    assert back["background"].dtype == bool and back["background"].tolist() == [True, False]
    assert back["replication"].dtype == np.int64
    assert back["when"].iloc[0] == pd.Timestamp("2025-01-01T06:00:00")
    assert back["when"].isna().iloc[1]


def test_a_streamed_table_reads_as_the_whole() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"replication": np.repeat([0, 1, 2], 4), "x": rng.random(12),
                          "site": pd.Categorical(rng.choice(["a", "b,c"], 12))})  # fmt: skip
    parts = [csv_text(frame.iloc[:0])] + [
        csv_text(rows, header=False) for _, rows in frame.groupby("replication")
    ]
    assert "".join(parts) == csv_text(frame)


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.lists(st.integers(-9_200_000_000, 9_200_000_000) | st.none(), max_size=40),
    offset=st.integers(0, 3),
)
def test_iso_text_is_each_datetime_to_the_second(seconds: list[int | None], offset: int) -> None:
    """Every datetime a table can hold (1678 to 2261), NaT too, and a slice of an array, as Python
    writes it to the second, with a T between date and time."""
    values = np.array(
        [np.datetime64("NaT") if s is None else np.datetime64(s, "s") for s in seconds],
        dtype="datetime64[s]",
    ).astype("datetime64[ns]")
    expected = [
        None if s is None else (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=s)).isoformat()
        for s in seconds
    ]
    assert iso_text(values).to_pylist() == expected
    if len(values) > offset:  # an array that starts inside its buffers
        text = iso_text(np.concatenate([values[:offset], values])).slice(offset)
        assert text.to_pylist() == expected
        assert iso_text(values, aware=True).to_pylist() == [
            None if e is None else e + "+00:00" for e in expected
        ]


def test_the_t_goes_in_at_the_right_place_in_a_slice() -> None:
    """_with_t on text that starts inside its buffers, and on text it must leave to the
    general search and replace (a missing value, another length)."""
    texts = ["2025-01-01 00:00:00", "2026-02-03 04:05:06", "1999-12-31 23:59:59"]
    sliced = pa.array(["xx", *texts]).slice(1)
    assert _with_t(sliced).to_pylist() == [t.replace(" ", "T") for t in texts]
    inside = pa.array(["2000-01-01 00:00:00", *texts]).slice(1, 2)  # every text 19 long
    assert _with_t(inside).to_pylist() == [t.replace(" ", "T") for t in texts[:2]]
    assert _with_t(pa.array([*texts, None]).slice(1)).to_pylist() == [
        "2026-02-03T04:05:06", "1999-12-31T23:59:59", None
    ]  # fmt: skip
    assert _with_t(pa.array(["10000-01-01 00:00:00", texts[0]])).to_pylist() == [
        "10000-01-01T00:00:00", "2025-01-01T00:00:00"
    ]  # fmt: skip
    assert _with_t(pa.array([], pa.string())).to_pylist() == []
