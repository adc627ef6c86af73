"""Fuzz: a mangled input file is either loaded or refused with DcsimError, nothing else.

Hypothesis takes the bundled files (sites, scenarios and catalog), mutates one
of them (deletes keys, renames them, puts values of other TOML types in their
place, garbles quantity strings, swaps units, injects odd strings and dates,
adds overrides, or breaks the TOML text itself), writes the set to a temporary
folder and loads a top-level file. Any exception other than
:class:`dcsim.errors.DcsimError` (a KeyError, TypeError, OverflowError, a
warning turned error...) is a bug: the CLI would show it as a traceback.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcsim.errors import DcsimError
from dcsim.input.load import load
from tests.support import SITES

# Every bundled file, relative to sites/, parsed once.
BUNDLED: dict[str, dict[str, Any]] = {
    str(p.relative_to(SITES)): tomllib.loads(p.read_text(encoding="utf-8"))
    for p in sorted([*SITES.glob("*.toml"), *SITES.glob("catalog/*.toml")])
}
TOP_LEVEL = sorted(name for name in BUNDLED if "/" not in name)
assert "ashburn.toml" in TOP_LEVEL

UNITS = [
    "MW",
    "kW",
    "W",
    "MVA",
    "weeks",
    "months",
    "years",
    "days",
    "s",
    "USD",
    "GPU/week",
    "units/year",
    "requests/year",
    "degC",
    "m",
    "MWh",
    "m^99",
    "Ys^50/s^49",
    "GPU",
    "%",
    "1/day",
    "MW·h",
    "dollar/GPU",
    "µs",
    "__class__",
    "e",
]
NUMBERS = [
    "0",
    "-1",
    "-0",
    "1e999",
    "1e-999",
    "1e15",
    "1e16",
    "nan",
    "inf",
    "1,5",
    "1.5.5",
    "0x10",
    "1_000",
    "1,000",
    "٣",
    "½",
    "1e",
    ".",
    "+",
    "9" * 400,
    "1e308",
]
WEIRD = [
    "9**9**9 MW",
    "__import__('os')",
    "(1) MW",
    "1 MW; import os",
    "{0.__class__}",
    "",
    " ",
    "\x00",
    "\u202e MW",
    "🙂",
    "1 MW MW",
    "MW",
    "1 Ys^99/Ys^98",
    "1 m^-99",
    "1/0 MW",
    "x" * 3000,
    "1 " + "MW*" * 200 + "MW",
    "when_needed",
    "owned",
    "../" * 40 + "x.toml",
    "catalog",
    "/",
    ".",
    "sites/../sites",
    "lot-1",
    "hall-1",
    "dominion",
    "2025-01-01",
]
DATES = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30)),
    st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=st.timezones()),
    st.times(),
)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),  # nan and inf included: TOML has them
    st.text(max_size=30),
    st.sampled_from(WEIRD),
    DATES,
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
KEYS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "name",
            "dist",
            "low",
            "high",
            "mode",
            "values",
            "sites",
            "include",
            "catalog",
            "scenario",
            "overrides",
            "halls",
            "lots",
            "",
            " ",
            "a.b",
            "[0]",
            "start_date",
        ]
    ),
)


def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document (dict keys and list indexes), as paths."""
    out: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else (enumerate(node) if isinstance(node, list) else ())
    )
    for key, value in items:
        out.append((*path, key))
        out.extend(_slots(value, (*path, key)))
    return out


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# Number-like and unit-like text, beyond the hand-picked lists.
NUMBER_TEXT = st.one_of(
    st.sampled_from(NUMBERS), st.from_regex(r"[-+]?[0-9.,_eE]{1,9}", fullmatch=True)
)
UNIT_TEXT = st.one_of(
    st.sampled_from(UNITS),
    st.from_regex(
        r"[A-Za-zµ_]{1,4}(\^-?[0-9]{1,2})?([ */·][A-Za-z]{1,4}(\^-?[0-9]{1,2})?){0,2}",
        fullmatch=True,
    ),
)
PATHS = st.one_of(
    st.sampled_from(
        [
            "",
            ".",
            "/",
            "catalog",
            "\x00",
            "x\x00.toml",
            "x" * 300 + ".toml",
            "../" * 40 + "x.toml",
            "portfolio.toml",
            "ashburn.toml",
            "catalog/gpus.toml",
        ]
    ),
    st.text(max_size=12),
)
OPS = [
    "delete",
    "rename",
    "replace",
    "empty",
    "add",
    "date",
    "weird",
    "number",
    "number",
    "unit",
    "unit",
    "garble",
    "garble",
    "path",
]


def _is_quantity(value: object) -> bool:
    return isinstance(value, str) and " " in value.strip() and value.strip()[0] in "+-.0123456789"


def mutate(data: st.DataObject, doc: dict[str, Any]) -> None:
    """Apply one random mutation to ``doc`` in place."""
    slots = _slots(doc)
    op = data.draw(st.sampled_from(OPS), label="op")
    # Aim the quantity mutations at quantity strings, path ones at file lists, and so on.
    wanted = {
        "number": [p for p in slots if _is_quantity(_at(doc, p))],
        "unit": [p for p in slots if _is_quantity(_at(doc, p))],
        "garble": [p for p in slots if isinstance(_at(doc, p), str)],
        "date": [p for p in slots if isinstance(_at(doc, p), (dt.date, dt.time))],
        "path": [
            p
            for p in slots
            if p[:2] in (("scenario", "sites"), ("scenario", "include")) or p[-1] == "catalog"
        ],
        "rename": [p for p in slots if isinstance(_at(doc, p[:-1]), dict)],
    }.get(op, slots)
    if not wanted or op == "add":
        parents = [()] + [p for p in slots if isinstance(_at(doc, p), dict)]
        parent = _at(doc, data.draw(st.sampled_from(parents)))
        parent[data.draw(KEYS)] = data.draw(TOML_VALUES)
        return
    path = data.draw(st.sampled_from(wanted), label="where")
    parent, key = _at(doc, path[:-1]), path[-1]
    value = parent[key]
    if op == "delete":
        del parent[key]
    elif op == "rename":
        parent[data.draw(KEYS)] = parent.pop(key)
    elif op == "garble":
        text = list(value)
        for _ in range(data.draw(st.integers(1, 4))):
            where = data.draw(st.integers(0, len(text)))
            if text and data.draw(st.booleans()):
                del text[min(where, len(text) - 1)]
            else:
                text.insert(where, data.draw(st.characters(codec="utf-8")))
        parent[key] = "".join(text)
    elif op == "unit":
        parent[key] = f"{value.split()[0]} {data.draw(UNIT_TEXT)}"
    elif op == "number":
        parent[key] = f"{data.draw(NUMBER_TEXT)} {value.split(None, 1)[-1]}"
    elif op == "weird":
        parent[key] = data.draw(st.sampled_from(WEIRD))
    elif op == "date":
        parent[key] = data.draw(DATES)
    elif op == "path":
        parent[key] = data.draw(PATHS)
    elif op == "empty":
        parent[key] = data.draw(st.sampled_from([[], {}, "", 0, [{}], {"dist": "fixed"}]))
    else:
        parent[key] = data.draw(TOML_VALUES)


def _overrides(data: st.DataObject, doc: dict[str, Any]) -> list[tuple[str, object]]:
    """Overrides at real key paths of ``doc`` (or garbled ones), with random values."""
    slots = [_dotted(p) for p in _slots(doc)]
    keys = st.sampled_from(
        [
            "sites.ashburn.halls[9].name",
            "sites",
            "x",
            "",
            "a..b",
            "sites.ashburn.halls[hall-1].it_power",
            "gpus.H100[0]",
            "sites.ashburn.lots.gb300-a.count",
            "[0]",
            "scenario.horizon",
        ]
    )
    if slots:
        keys = st.one_of(
            keys, st.sampled_from(slots).map(lambda k: f"sites.fuzz.{k}"), st.sampled_from(slots)
        )
    return data.draw(st.lists(st.tuples(keys, TOML_VALUES), max_size=2))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mangled_input_loads_or_raises_dcsim_error(data: st.DataObject) -> None:
    victim = data.draw(st.sampled_from(sorted(BUNDLED)), label="mutated file")
    top = victim if victim in TOP_LEVEL else data.draw(st.sampled_from(TOP_LEVEL), label="top")
    doc = tomllib.loads(tomli_w.dumps(BUNDLED[victim]))  # a deep copy
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutate(data, doc)
    text = tomli_w.dumps(doc)
    if data.draw(st.integers(0, 9), label="break the TOML text") == 0:
        where = data.draw(st.integers(0, len(text)))
        text = (
            text[:where]
            + data.draw(
                st.sampled_from(["=", "[", "]", '"', "\n[[", "{", "\\", "\x00", "'''", "\n", "#"])
            )
            + text[where:]
        )
    overrides = _overrides(data, doc) if data.draw(st.booleans()) else []

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "catalog").mkdir()
        for name, original in BUNDLED.items():
            (root / name).write_text(tomli_w.dumps(original), encoding="utf-8")
        (root / victim).write_text(text, encoding="utf-8")
        try:
            scenario = load(root / top, overrides)
        except DcsimError as exc:
            message = str(exc)
            assert message.strip(), "a DcsimError must say something"
            assert "Traceback" not in message
        else:
            assert scenario.sites


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mangled_self_contained_scenario(data: st.DataObject) -> None:
    """One scenario file with the catalog inline: every catalog entry is fair game too."""
    catalog = {
        section: entries
        for name, file in BUNDLED.items()
        if name.startswith("catalog/")
        for section, entries in file.items()
    }
    site = {k: v for k, v in BUNDLED["ashburn.toml"].items() if k != "name"}
    doc: dict[str, Any] = {
        "scenario": {"name": "fuzz", "catalog": False, "start_date": dt.date(2025, 1, 1)},
        "sites": {"fuzz": site},
        **catalog,
    }
    doc = tomllib.loads(tomli_w.dumps(doc))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutate(data, doc)
    overrides = _overrides(data, doc) if data.draw(st.booleans()) else []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        try:
            load(path, overrides)
        except DcsimError as exc:
            assert str(exc).strip()
