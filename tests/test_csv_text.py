"""dcsim's CSV text is pandas' ``to_csv`` text, byte for byte, for every table it writes."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import given, settings

from dcsim.output.csv_text import csv_text, iso_dates

# Text a log could hold, and the characters that CSV has to quote.
_TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t;é-_/0.')), max_size=6)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 0.1, 1e16, 1e-5, 123456789.123, 1e300, 5e-324, math.nan]
)


def _pandas(frame: pd.DataFrame, header: bool = True) -> str:
    return str(iso_dates(frame).to_csv(index=False, header=header, lineterminator="\n"))


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


@settings(max_examples=300, deadline=None)
@given(frames(), st.booleans())
def test_the_text_is_pandas_text(frame: pd.DataFrame, header: bool) -> None:
    assert csv_text(frame, header=header) == _pandas(frame, header)


def test_quoting_by_hand() -> None:
    frame = pd.DataFrame({"name": ["plain", "a,b", 'say "hi"', "two\nlines", None],
                          "mw": [1.0, 0.1, math.nan, 1e16, -0.0]})  # fmt: skip
    assert csv_text(frame) == (
        'name,mw\nplain,1.0\n"a,b",0.1\n"say ""hi""",\n"two\nlines",1e+16\n,-0.0\n'
    )


def test_a_streamed_table_reads_as_the_whole() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"replication": np.repeat([0, 1, 2], 4), "x": rng.random(12),
                          "site": pd.Categorical(rng.choice(["a", "b,c"], 12))})  # fmt: skip
    parts = [csv_text(frame.iloc[:0])] + [
        csv_text(rows, header=False) for _, rows in frame.groupby("replication")
    ]
    assert "".join(parts) == csv_text(frame)
