"""Every kind of bad input, through the real ``dcsim check`` command.

Each case copies the bundled example (``sites/ashburn.toml``, plus a scenario
file where needed) into a temporary folder, breaks one thing, and checks that
the command exits with status 2 and one readable message that names the file,
the dotted key path, what was found and what was expected, and no traceback.

Starting a fresh ``python -m dcsim`` costs a second or more (pint, and what
``dcsim/__init__`` imports), so every rule has one case through a real process
(ids ending in ``-cli``) and its further variants go through the same click
command inside this process (:func:`conftest.run_in_process`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dcsim.input.dotted_keys import split_key
from dcsim.input.load import load
from dcsim.input.units import DURATION, parse_quantity
from dcsim.input.validate import DEFAULT_HORIZON
from tests.support import (
    CATALOG,
    ashburn_doc,
    ashburn_text,
    assert_refused,
    edited_ashburn,
    run_cli,
    run_in_process,
    sub_once,
    write_doc,
    write_text,
)

SITE = "sites.ashburn"
# Dates are derived from the example, so that it can be re-dated without breaking the tests.
START: dt.date = ashburn_doc()["start_date"]
END: dt.date = START + dt.timedelta(days=parse_quantity(DEFAULT_HORIZON, DURATION))


def site_with(edit: Callable[[dict[str, Any]], object]) -> Callable[[Path], Path]:
    return lambda folder: edited_ashburn(folder, edit)


def site_text_with(pattern: str, replacement: str) -> Callable[[Path], Path]:
    return lambda folder: write_text(
        folder, "ashburn.toml", sub_once(ashburn_text(), pattern, replacement)[0]
    )


def scenario_with(scenario: dict[str, Any], **sections: Any) -> Callable[[Path], Path]:
    """A scenario file listing an unchanged copy of the example site."""

    def build(folder: Path) -> Path:
        edited_ashburn(folder)
        doc = {"scenario": {"name": "test", "sites": ["ashburn.toml"], **scenario}, **sections}
        return write_doc(folder, "scenario.toml", doc)

    return build


def cases(*entries: tuple[Any, ...], ids: list[str], cli: tuple[int, ...] = (0,)) -> list[Any]:
    """pytest params with a trailing ``real`` flag: entries listed in ``cli`` run a process."""
    assert len(entries) == len(ids)
    return [
        pytest.param(*entry, index in cli, id=name + ("-cli" if index in cli else ""))
        for index, (entry, name) in enumerate(zip(entries, ids, strict=True))
    ]


def check_refused(
    tmp_path: Path,
    build: Callable[[Path], Path],
    error_file: str,
    *fragments: str,
    real: bool = True,
) -> str:
    """Build the bad input, run ``dcsim check`` on it, and check the one-paragraph refusal.

    ``error_file`` is the file the message must name (relative to ``tmp_path``),
    followed by anything the message puts between it and the key (" [overrides]").
    """
    path = build(tmp_path)
    result = run_cli("check", path) if real else run_in_process("check", path)
    assert result.stdout == ""
    return assert_refused(result, f"{tmp_path / error_file}: ", *fragments)


def _parent(doc: dict[str, Any], dotted: str) -> tuple[Any, str | int]:
    """The container holding 'a.b[i].c' in ``doc``, and the last part of the key."""
    *parents, leaf = split_key(dotted)
    node: Any = doc
    for part in parents:
        node = node[part]
    return node, leaf


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    node, leaf = _parent(doc, dotted)
    node[leaf] = value


def _del(doc: dict[str, Any], dotted: str) -> None:
    node, leaf = _parent(doc, dotted)
    del node[leaf]


def _rename(doc: dict[str, Any], dotted: str, new_name: str) -> None:
    node, leaf = _parent(doc, dotted)
    node[new_name] = node.pop(leaf)


def setting(dotted: str, value: Any) -> Callable[[Path], Path]:
    return site_with(lambda doc: _set(doc, dotted, value))


def deleting(dotted: str) -> Callable[[Path], Path]:
    return site_with(lambda doc: _del(doc, dotted))


def renaming(dotted: str, new_name: str) -> Callable[[Path], Path]:
    return site_with(lambda doc: _rename(doc, dotted, new_name))


# ---------------------------------------------------------------- TOML syntax
@pytest.mark.parametrize(
    ("pattern", "replacement", "extra_lines", "real"),
    cases(
        (r'^(request = )"([^"\n]*)"', r"\1\2", 0),
        (r"^(spares = .*)$", r"\1\nspares = 3", 1),
        (r'^(location = "[^"\n]*)"', r"\1", 0),
        (r"^\[installation\]", "[installation", 0),
        (r"^(start_date = )(\d{4})-", r"\1\2/", 0),
        ids=[
            "unquoted-quantity",
            "duplicate-key",
            "unterminated-string",
            "unclosed-header",
            "date-with-slashes",
        ],
    ),
)
def test_toml_syntax_error_names_file_and_line(
    tmp_path: Path, pattern: str, replacement: str, extra_lines: int, real: bool
) -> None:
    text, line = sub_once(ashburn_text(), pattern, replacement)
    check_refused(
        tmp_path,
        lambda folder: write_text(folder, "ashburn.toml", text),
        "ashburn.toml",
        "not valid TOML",
        f"(at line {line + extra_lines},",
        real=real,
    )


# ---------------------------------------------------------------- unknown keys
@pytest.mark.parametrize(
    ("build", "error_file", "key", "suggestion", "real"),
    cases(
        (
            site_text_with(r"^spares =", "spars ="),
            "ashburn.toml",
            f"{SITE}.substation.spars",
            "spares",
        ),
        (setting("halls[1].crew", 1), "ashburn.toml", f"{SITE}.halls[1].crew", "crews"),
        (renaming("location", "locaton"), "ashburn.toml", f"{SITE}.locaton", "location"),
        (
            setting(
                "lots[0].delay",
                {"dist": "uniform", "low": "0 weeks", "high": "2 weeks", "hihg": "3 weeks"},
            ),
            "ashburn.toml",
            f"{SITE}.lots[0].delay.hihg",
            "high",
        ),
        (
            setting("economics.gpu_prise", "30000 USD"),
            "ashburn.toml",
            f"{SITE}.economics.gpu_prise",
            "gpu_price",
        ),
        (scenario_with({"horizn": "5 years"}), "scenario.toml", "scenario.horizn", "horizon"),
        (scenario_with({}, site={"x": {}}), "scenario.toml", "site", "sites"),
        (
            scenario_with({}, overrides={f"{SITE}.substation.sparse": 2}),
            "scenario.toml [overrides]",
            f"{SITE}.substation.sparse",
            "spares",
        ),
        ids=[
            "substation",
            "second-hall",
            "site-top-level",
            "distribution",
            "optional-key",
            "scenario",
            "scenario-section",
            "via-override",
        ],
    ),
)
def test_unknown_key_suggests_nearest(
    tmp_path: Path,
    build: Callable[[Path], Path],
    error_file: str,
    key: str,
    suggestion: str,
    real: bool,
) -> None:
    check_refused(
        tmp_path,
        build,
        error_file,
        f"{key}: ",
        "unknown",
        f"Did you mean '{suggestion}'?",
        real=real,
    )


@pytest.mark.parametrize(
    ("key", "typo", "real"),
    cases(
        ("halls[1].construction_time", "constrution_time"),
        ("interconnection.region", "regoin"),
        ("economics.depreciation_life", "depreciation_lifetime"),
        ("name", "nmae"),  # the site's own name, read before its table is
        ids=["hall", "interconnection", "economics", "site-name"],
        cli=(),
    ),
)
def test_misspelled_required_key_names_both_spellings(
    tmp_path: Path, key: str, typo: str, real: bool
) -> None:
    check_refused(
        tmp_path,
        renaming(key, typo),
        "ashburn.toml",
        f"{SITE}.{key}: ",
        "the key is missing",
        f"Is '{typo}' a misspelling of it?",
        real=real,
    )


def test_override_of_missing_table_suggests_nearest(tmp_path: Path) -> None:
    build = scenario_with({}, overrides={f"{SITE}.hals[1].construction_time": "18 months"})
    check_refused(
        tmp_path,
        build,
        "scenario.toml [overrides]",
        f"{SITE}.hals[1].construction_time: ",
        "'18 months'",
        "a key that exists",
        "Did you mean 'halls'?",
        real=False,
    )


# ---------------------------------------------------------------- missing keys
REQUIRED = "expected this required key to be set"


@pytest.mark.parametrize(
    ("key", "expected", "real"),
    cases(
        ("lots[0].count", REQUIRED),
        ("interconnection.region", REQUIRED),
        ("installation", REQUIRED),
        ("halls[1].it_power", REQUIRED),
        ("substation.order_policy", REQUIRED),
        ("economics.depreciation_life", REQUIRED),
        ("start_date", "expected the site's start date written as YYYY-MM-DD"),
        ("interconnection.tranches[0].earliest", REQUIRED),
        ids=[
            "lot-count",
            "region",
            "table",
            "hall",
            "policy",
            "economics",
            "start-date",
            "tranche",
        ],
    ),
)
def test_missing_required_key(tmp_path: Path, key: str, expected: str, real: bool) -> None:
    check_refused(
        tmp_path,
        deleting(key),
        "ashburn.toml",
        f"{SITE}.{key}: ",
        "found <nothing: the key is missing>",
        expected,
        real=real,
    )


# ---------------------------------------------------------------- wrong dimension
@pytest.mark.parametrize(
    ("key", "value", "expected", "real"),
    cases(
        ("halls[1].construction_time", "18 MW", "expected a duration"),
        ("halls[0].it_power", "300 weeks", "expected a power"),
        (
            "lots[1].delay",
            {"dist": "uniform", "low": "0 weeks", "high": "12 MW"},
            "expected a duration",
        ),
        ("economics.depreciation_life", "5 USD", "expected a duration"),
        ("installation.rate", "4000 GPU", "expected a rate of GPUs per time"),
        ("substation.rating", "120 kg", "expected an apparent power"),
        ("interconnection.tranches[0].power", "150 MWh", "expected a power"),
        # MVA and MW have one dimension in pint, but a rating is apparent power, a
        # block of generation (or a GPU's draw) real power: one for the other is refused.
        ("substation.rating", "120 MW", "expected an apparent power"),
        ("interconnection.request", "300 MVA", "expected a power"),
        ("halls[0].it_power", "150000 kVA", "expected a power"),
        ids=[
            "power-for-duration",
            "duration-for-power",
            "distribution-parameter",
            "money-for-duration",
            "count-for-rate",
            "mass-for-rating",
            "energy-for-power",
            "real-for-apparent",
            "apparent-for-real",
            "kva-for-hall-power",
        ],
        cli=(0, 7),
    ),
)
def test_wrong_dimension(tmp_path: Path, key: str, value: Any, expected: str, real: bool) -> None:
    bad_key, bad = (f"{key}.high", value["high"]) if isinstance(value, dict) else (key, value)
    err = check_refused(
        tmp_path,
        setting(key, value),
        "ashburn.toml",
        f"{SITE}.{bad_key}: ",
        f"found '{bad}'",
        expected,
        real=real,
    )
    unit = bad.split()[1]
    assert f"('{unit}' is a" in err or f"('{unit}' is real power" in err  # what it measures


# ---------------------------------------------------------------- unparseable
@pytest.mark.parametrize(
    ("value", "expected", "real"),
    cases(
        ("300 megafoo", "a power with a known unit"),
        ("three hundred MW", "'<number> <unit>'"),
        ("300", "'<number> <unit>'"),
        ("MW 300", "'<number> <unit>'"),
        ("1,5 MW", "'<number> <unit>'"),
        ("1.5.5 MW", "'<number> <unit>'"),
        ("1e999 MW", "a finite power of reasonable size"),
        ("1 YW^30 / W^29", "a finite power of reasonable size"),
        ("1e15 GW", "a finite power of reasonable size"),
        ("", "'<number> <unit>'"),
        ids=[
            "unknown-unit",
            "words",
            "no-unit",
            "unit-first",
            "decimal-comma",
            "two-points",
            "overflowing-number",
            "overflowing-unit",
            "huge-after-conversion",
            "empty",
        ],
    ),
)
def test_unparseable_quantity(tmp_path: Path, value: str, expected: str, real: bool) -> None:
    check_refused(
        tmp_path,
        setting("interconnection.request", value),
        "ashburn.toml",
        f"{SITE}.interconnection.request: ",
        f"found {value!r}",
        expected,
        real=real,
    )


@pytest.mark.parametrize(
    ("value", "shown", "real"),
    cases(
        (300, "found 300"),
        (300.5, "found 300.5"),
        (True, "found True"),
        (["300 MW"], "found ['300 MW']"),
        ({"value": "300 MW"}, "found {value = '300 MW'}"),
        ids=["integer", "float", "boolean", "list", "table"],
        cli=(),
    ),
)
def test_quantity_that_is_not_a_string(tmp_path: Path, value: Any, shown: str, real: bool) -> None:
    check_refused(
        tmp_path,
        setting("interconnection.request", value),
        "ashburn.toml",
        f"{SITE}.interconnection.request: ",
        shown,
        "a power written as a string with a unit, like '300 MW'",
        real=real,
    )


@pytest.mark.parametrize(
    ("value", "real"),
    cases(
        ("9**9**9 MW",),
        ("__import__('os')",),
        ("__import__('pathlib').Path('pwned').touch() MW",),
        ("(10**10**10) MW",),
        ("MW.__class__",),
        ("1e10**1e10 MW",),
        ("{0.__class__} MW",),
        ("1 MW; import os",),
        ids=[
            "power-tower",
            "import",
            "side-effect",
            "parenthesised",
            "attribute",
            "float-power",
            "format-field",
            "statement",
        ],
        cli=(2,),
    ),
)
def test_quantity_is_never_evaluated(
    tmp_path: Path, value: str, real: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    check_refused(
        tmp_path,
        setting("halls[0].it_power", value),
        "ashburn.toml",
        f"{SITE}.halls[0].it_power: ",
        f"found {value!r}",
        "no expressions",
        real=real,
    )
    # Refused at once, by the pattern: evaluating 9**9**9 would run for hours.
    assert time.monotonic() - started < 30
    assert not (tmp_path / "pwned").exists()


# ---------------------------------------------------------------- zero / negative
@pytest.mark.parametrize(
    ("key", "value", "expected", "real"),
    cases(
        ("halls[0].it_power", "0 MW", "a power greater than zero"),
        ("halls[1].it_power", "-5 MW", "a power greater than zero"),
        ("installation.rate", "0 GPU/week", "a rate of GPUs per time greater than zero"),
        ("halls[1].construction_time", "-3 months", "a duration greater than zero"),
        ("lots[0].delay", "-1 week", "a duration of zero or more"),
        ("lots[0].count", 0, "a whole number from 1 to"),
        ("substation.transformers", -2, "a whole number from 1 to"),
        ("substation.power_factor", 0, "a number greater than 0"),
        ("construction.crews", 0, "a whole number from 1 to"),
        ("economics.depreciation_life", "0 years", "a duration greater than zero"),
        ids=[
            "zero-power",
            "negative-power",
            "zero-rate",
            "negative-duration",
            "negative-delay",
            "zero-count",
            "negative-transformers",
            "zero-power-factor",
            "zero-crews",
            "zero-life",
        ],
    ),
)
def test_zero_or_negative_refused(
    tmp_path: Path, key: str, value: Any, expected: str, real: bool
) -> None:
    check_refused(
        tmp_path,
        setting(key, value),
        "ashburn.toml",
        f"{SITE}.{key}: ",
        f"found {value!r}",
        expected,
        real=real,
    )


# ---------------------------------------------------------------- distributions
@pytest.mark.parametrize(
    ("key", "table", "bad_key", "found", "expected", "real"),
    cases(
        (
            "lots[1].delay",
            {"dist": "uniform", "low": "13 weeks", "high": "12 weeks"},
            "low",
            "'13 weeks'",
            "low no greater than high ('12 weeks')",
        ),
        (
            "halls[1].construction_time",
            {"dist": "triangular", "low": "20 months", "mode": "15 months", "high": "18 months"},
            "mode",
            "'15 months'",
            "low <= mode <= high (low '20 months', high '18 months')",
        ),
        (
            "halls[0].construction_time",
            {"dist": "triangular", "low": "12 months", "mode": "19 months", "high": "18 months"},
            "mode",
            "'19 months'",
            "low <= mode <= high",
        ),
        (
            "halls[0].construction_time",
            {"dist": "uniform", "low": "2 years", "high": "18 months"},
            "low",
            "'2 years'",
            "low no greater than high ('18 months')",
        ),
        (
            "halls[0].construction_time",
            {"dist": "lognormal", "median": "15 months", "sigma": -1},
            "sigma",
            "-1",
            "a number at least 0",
        ),
        (
            "halls[0].construction_time",
            {"dist": "exponential", "mean": "0 months"},
            "mean",
            "'0 months'",
            "greater than zero",
        ),
        (
            "halls[0].construction_time",
            {"dist": "empirical", "values": []},
            "values",
            "[]",
            "a non-empty list",
        ),
        (
            "halls[0].construction_time",
            {"dist": "empirical", "values": ["0 days", "0 weeks"]},
            "values",
            "['0 days', '0 weeks']",
            "at least one duration greater than zero",
        ),
        (
            "halls[0].construction_time",
            {"dist": "beta", "low": "1 month"},
            "dist",
            "'beta'",
            "one of 'fixed', 'uniform'",
        ),
        (
            "halls[0].construction_time",
            {"dist": "uniform", "low": "1 month"},
            "high",
            "<nothing: the key is missing>",
            "this required key to be set",
        ),
        ids=[
            "uniform-low-above-high",
            "triangular-low-above-high",
            "triangular-mode-above-high",
            "mixed-units",
            "lognormal-negative-sigma",
            "exponential-zero-mean",
            "empirical-empty",
            "empirical-all-zero",
            "unknown-kind",
            "missing-parameter",
        ],
    ),
)
def test_contradictory_distribution(
    tmp_path: Path,
    key: str,
    table: dict[str, Any],
    bad_key: str,
    found: str,
    expected: str,
    real: bool,
) -> None:
    check_refused(
        tmp_path,
        setting(key, table),
        "ashburn.toml",
        f"{SITE}.{key}.{bad_key}: ",
        f"found {found}",
        expected,
        real=real,
    )


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("key", "value", "expected", "real"),
    cases(
        (
            "lots[0].delivery",
            START.replace(year=START.year - 1),
            f"a date on or after the scenario start {START}",
        ),
        (
            "halls[1].construction_start",
            END.replace(year=END.year + 5),
            f"a date within the horizon (on or before {END})",
        ),
        (
            "interconnection.request_date",
            START - dt.timedelta(days=1),
            f"a date on or after the scenario start {START}",
        ),
        (
            "lots[1].delivery",
            END + dt.timedelta(days=1),
            f"a date within the horizon (on or before {END})",
        ),
        ids=["before-start", "beyond-horizon", "day-before-start", "day-beyond-horizon"],
        cli=(1,),
    ),
)
def test_date_outside_the_scenario(
    tmp_path: Path, key: str, value: dt.date, expected: str, real: bool
) -> None:
    check_refused(
        tmp_path,
        setting(key, value),
        "ashburn.toml",
        f"{SITE}.{key}: ",
        f"found {value.isoformat()}",
        expected,
        real=real,
    )


def test_shorter_horizon_puts_site_date_beyond_it(tmp_path: Path) -> None:
    # The horizon is set in the scenario file but the date is written in the site file,
    # so the site file is the one named.
    end = START + dt.timedelta(days=parse_quantity("2 years", DURATION))
    build = scenario_with({"horizon": "2 years", "start_date": START})
    err = check_refused(
        tmp_path,
        build,
        "ashburn.toml",
        f"{SITE}.",
        f"a date within the horizon (on or before {end})",
        real=False,
    )
    found = re.search(r"found (\d{4}-\d\d-\d\d); expected", err)
    assert found is not None, err
    assert dt.date.fromisoformat(found.group(1)) > end


def test_scenario_start_after_site_dates(tmp_path: Path) -> None:
    later = START.replace(year=START.year + 1)
    build = scenario_with({"start_date": later})
    check_refused(
        tmp_path,
        build,
        "ashburn.toml",
        f"{SITE}.start_date: ",
        f"found {START}",
        f"on or after the scenario start {later}",
        real=False,
    )


@pytest.mark.parametrize(
    ("value", "shown", "real"),
    cases(
        ("2026-06-01", "found '2026-06-01'"),
        (20260601, "found 20260601"),
        (dt.time(12, 0), "found 12:00:00"),
        ids=["string", "number", "time-of-day"],
        cli=(),
    ),
)
def test_date_written_as_something_else(tmp_path: Path, value: Any, shown: str, real: bool) -> None:
    check_refused(
        tmp_path,
        setting("lots[0].delivery", value),
        "ashburn.toml",
        f"{SITE}.lots[0].delivery: ",
        shown,
        "YYYY-MM-DD without quotes",
        real=real,
    )


def test_horizon_too_long_for_the_calendar(tmp_path: Path) -> None:
    check_refused(
        tmp_path,
        scenario_with({"horizon": "1e9 days"}),
        "scenario.toml",
        "scenario.horizon: ",
        "found '1e9 days'",
        "ends by 2200-01-01",
        real=False,
    )


# ---------------------------------------------------------------- references
@pytest.mark.parametrize(
    ("key", "value", "what", "suggestion", "real"),
    cases(
        ("lots[0].model", "GB201", "GPU model", "Did you mean 'GB200'?"),
        ("halls[1].cooling", "direct_liqud", "cooling type", "Did you mean 'direct_liquid'?"),
        # No name is close: the message lists the names that exist.
        ("interconnection.region", "xyzzy", "region", "dominion"),
        ("transformer_supply", "xyzzy", "transformer supply", "north_america"),
        ids=["gpu-model", "cooling-type", "region", "transformer-supply"],
    ),
)
def test_reference_to_missing_name(
    tmp_path: Path, key: str, value: str, what: str, suggestion: str, real: bool
) -> None:
    check_refused(
        tmp_path,
        setting(key, value),
        "ashburn.toml",
        f"{SITE}.{key}: ",
        f"found '{value}'",
        f"the name of a {what} that exists",
        suggestion,
        real=real,
    )


def test_catalog_entry_referring_to_missing_cooling(tmp_path: Path) -> None:
    gpu = {"it_power": "2 kW", "cooling": "water", "price": "60000 USD"}
    check_refused(
        tmp_path,
        scenario_with({}, gpus={"R100": gpu}),
        "scenario.toml",
        "gpus.R100.cooling: ",
        "found 'water'",
        "the name of a cooling type",
        real=False,
    )


def test_error_in_catalog_file_names_that_file(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for file in CATALOG.glob("*.toml"):
        write_text(catalog, file.name, file.read_text(encoding="utf-8"))
    gpus = (catalog / "gpus.toml").read_text(encoding="utf-8")
    first = next(iter(tomllib.loads(gpus)["gpus"].items()))  # built first, so reported
    text, _ = sub_once(gpus, r'^(it_power = "[^"\n]*)"', r'\1h"')  # kW -> kWh, an energy
    write_text(catalog, "gpus.toml", text)
    # A catalog/ folder beside the site file is used instead of the bundled one.
    check_refused(
        tmp_path,
        edited_ashburn,
        "catalog/gpus.toml",
        f"gpus.{first[0]}.it_power: ",
        f"found '{first[1]['it_power']}h'",
        "a power per GPU",
        real=False,
    )


# ---------------------------------------------------------------- includes
def scenario_file(
    scenario: dict[str, Any], name: str = "scenario.toml", **others: dict[str, Any]
) -> Callable[[Path], Path]:
    """A scenario file (plus other scenario files) beside a copy of the example site."""

    def build(folder: Path) -> Path:
        edited_ashburn(folder)
        for other, body in others.items():
            write_doc(folder, f"{other}.toml", {"scenario": body})
        return write_doc(folder, name, {"scenario": scenario})

    return build


@pytest.mark.parametrize(
    ("build", "error_file", "key", "found", "expected", "real"),
    cases(
        (
            scenario_file({"sites": ["ashburn.toml"], "include": ["base.toml"]}),
            "scenario.toml",
            "scenario.include[0]",
            "'base.toml'",
            "the path of an existing scenario file, relative to",
        ),
        (
            scenario_file({"sites": ["ashburn.toml"], "include": ["scenario.toml"]}),
            "scenario.toml",
            "scenario.include[0]",
            "'scenario.toml'",
            "does not include itself",
        ),
        (
            scenario_file({"sites": ["ashburn.toml", "reston.toml"]}),
            "scenario.toml",
            "scenario.sites[1]",
            "'reston.toml'",
            "an existing site file",
        ),
        (
            scenario_file(
                {"sites": ["ashburn.toml"], "include": ["b.toml"]},
                name="a.toml",
                b={"include": ["a.toml"]},
            ),
            "b.toml",
            "scenario.include[0]",
            "'a.toml'",
            "does not include itself",
        ),
        (
            scenario_file({"sites": ["ashburn.toml"], "include": ["."]}),
            "scenario.toml",
            "scenario.include[0]",
            "'.'",
            "is a folder",
        ),
        (
            scenario_file({"include": ["ashburn.toml"]}),
            "scenario.toml",
            "scenario.include[0]",
            "'ashburn.toml'",
            "a scenario file (",
        ),
        (
            scenario_file({"sites": ["ashburn.toml"], "include": "base.toml"}),
            "scenario.toml",
            "scenario.include",
            "'base.toml'",
            "a list of file paths",
        ),
        ids=[
            "missing-include",
            "includes-itself",
            "missing-site-file",
            "include-cycle",
            "folder",
            "site-file-as-include",
            "not-a-list",
        ],
        cli=(1,),
    ),
)
def test_bad_include(
    tmp_path: Path,
    build: Callable[[Path], Path],
    error_file: str,
    key: str,
    found: str,
    expected: str,
    real: bool,
) -> None:
    check_refused(tmp_path, build, error_file, f"{key}: ", f"found {found}", expected, real=real)


def test_missing_top_level_file(tmp_path: Path) -> None:
    result = run_in_process("check", tmp_path / "nowhere.toml")
    assert_refused(result, f"{tmp_path / 'nowhere.toml'}: ", "no such file")


# ---------------------------------------------------------------- --dump
def test_dump_round_trips_through_the_cli(tmp_path: Path) -> None:
    site = edited_ashburn(tmp_path)
    first = run_cli("check", "--dump", site)
    assert first.returncode == 0, first.stderr
    dumped = write_text(tmp_path, "dumped.toml", first.stdout)
    again = run_in_process("check", "--dump", dumped)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert load(dumped) == load(site)
    plain = run_in_process("check", dumped)
    assert plain.returncode == 0, plain.stderr
    assert f"{dumped}: ok" in plain.stdout


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "resolved.toml")


def test_dump_output_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    site = edited_ashburn(tmp_path)
    out = tmp_path / "out" / "resolved.toml"
    first = run_in_process("check", "--dump", site, "-o", out)
    assert first.returncode == 0, first.stderr
    assert f"wrote {out}" in first.stderr
    assert first.stdout == ""
    assert load(out) == load(site)
    assert _leftovers(out.parent) == []

    out.write_text("# mine, keep me\n", encoding="utf-8")
    before = out.stat().st_mtime_ns
    refused = run_cli("check", "--dump", site, "-o", out)
    assert refused.stdout == ""
    assert_refused(refused, f"{out}: ", "already exists", "--force")
    assert out.read_text(encoding="utf-8") == "# mine, keep me\n"
    assert out.stat().st_mtime_ns == before
    assert _leftovers(out.parent) == []

    forced = run_in_process("check", "--dump", site, "-o", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert load(out) == load(site)
    assert _leftovers(out.parent) == []


def test_dump_of_bad_input_writes_nothing(tmp_path: Path) -> None:
    site = setting("lots[0].count", 0)(tmp_path)
    out = tmp_path / "out" / "resolved.toml"
    result = run_in_process("check", "--dump", site, "-o", out)
    assert_refused(result, f"{site}: ", f"{SITE}.lots[0].count")
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_dump_interrupted_while_writing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dcsim.cli.commands

    site = edited_ashburn(tmp_path)
    out = tmp_path / "out" / "resolved.toml"

    def interrupted(scenario: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(dcsim.cli.commands, "to_toml", interrupted)
    result = run_in_process("check", "--dump", site, "-o", out)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--dump", "A", "A"), "--dump takes exactly one file"),
        (("-o", "out.toml", "A"), "--output goes with --dump"),
    ],
)
def test_dump_option_misuse(
    tmp_path: Path, args: tuple[str, ...], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    site = edited_ashburn(tmp_path)
    result = run_in_process("check", *(str(site) if a == "A" else a for a in args))
    assert_refused(result, expected)
    assert not (tmp_path / "out.toml").exists()
