"""Input that once crashed, hung or exhausted dcsim: each now ends, quickly, with exit 2.

Every case runs the real command and checks the exit status, a one-paragraph
message naming the file and key, no traceback, and a time bound.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import SITES, assert_refused, run_cli

QUICK = 5.0  # seconds: every refusal here must come well within this


def bundled_copy(tmp_path: Path) -> Path:
    """A copy of the bundled sites and catalog, to edit."""
    target = tmp_path / "sites"
    shutil.copytree(SITES, target)
    return target


def edit(path: Path, pattern: str, replacement: str) -> Path:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(new, encoding="utf-8")
    return path


def refused_quickly(*args: str | Path, fragments: tuple[str, ...] = ()) -> str:
    started = time.perf_counter()
    result = run_cli(*args, timeout=60)
    elapsed = time.perf_counter() - started
    err = assert_refused(result, *fragments)
    assert elapsed < QUICK, f"took {elapsed:.1f} s"
    assert len(err) < 2000, "a short message, however long the bad value"
    return err


Edit = Callable[[Path], Path]
SITE_EDITS: list[tuple[str, Edit, str]] = [
    (
        "count-20-digits",
        lambda s: edit(s / "ashburn.toml", r"^count = 55000", "count = 10000000000000000000"),
        "lots[0].count",
    ),
    (
        "count-1e30",
        lambda s: edit(s / "ashburn.toml", r"^count = 55000", "count = " + "1" + "0" * 30),
        "lots[0].count",
    ),
    (
        "count-5000-digits",
        lambda s: edit(s / "ashburn.toml", r"^count = 55000", "count = " + "9" * 5000),
        "too long",
    ),
    (
        "transformers-1e6",
        lambda s: edit(s / "ashburn.toml", r"^transformers = 4", "transformers = 1000000"),
        "substation.transformers",
    ),
    (
        "lines-1e10",
        lambda s: edit(s / "catalog" / "transformers.toml", r"^lines = 240", "lines = 10000000000"),
        "lines",
    ),
    (
        "market-backlog-1e9",
        lambda s: edit(
            s / "catalog" / "transformers.toml", r"^initial_backlog = 200", "initial_backlog = 1e9"
        ),
        "initial_backlog",
    ),
    (
        "region-backlog-1e8",
        lambda s: edit(
            s / "catalog" / "regions.toml",
            r"^study_engineers",
            "initial_backlog = 100000000\nstudy_engineers",
        ),
        "initial_backlog",
    ),
    (
        "background-1e15",
        lambda s: edit(
            s / "catalog" / "regions.toml",
            r'^background_rate = "[^"]*"',
            'background_rate = "1e15 requests/day"',
        ),
        "background_rate",
    ),
    (
        "unit-words",
        lambda s: edit(
            s / "ashburn.toml",
            r'^request = "300 MW"',
            'request = "1 ' + " ".join(["W"] * 980) + '"',
        ),
        "interconnection.request",
    ),
    (
        "unit-30000-letters",
        lambda s: edit(
            s / "ashburn.toml", r'^request = "300 MW"', 'request = "1 ' + "W" * 30000 + '"'
        ),
        "interconnection.request",
    ),
    (
        "value-1MB",
        lambda s: edit(
            s / "ashburn.toml", r'^request = "300 MW"', 'request = "' + "9" * 900_000 + '"'
        ),
        "interconnection.request",
    ),
    (
        "fullwidth-digits",
        lambda s: edit(s / "ashburn.toml", r'^request = "300 MW"', 'request = "３００ MW"'),
        "interconnection.request",
    ),
    (
        "unknown-word",
        lambda s: edit(s / "ashburn.toml", r'^request = "300 MW"', 'request = "1 AA^0·A"'),
        "not a unit",
    ),
    (
        "pi-MW",
        lambda s: edit(s / "ashburn.toml", r'^request = "300 MW"', 'request = "1 pi MW"'),
        "'pi' is a number",
    ),
    (
        "percent-MW",
        lambda s: edit(s / "ashburn.toml", r'^request = "300 MW"', 'request = "1 percent MW"'),
        "'percent' is a number",
    ),
    (
        "date-00xx",
        lambda s: edit(s / "ashburn.toml", r"^start_date = 2025-01-01", "start_date = 0025-01-01"),
        "start_date",
    ),
    (
        "date-23xx",
        lambda s: edit(s / "ashburn.toml", r"^delivery = 2027-", "delivery = 2327-"),
        "lots[0].delivery",
    ),
    (
        "date-99xx",
        lambda s: edit(s / "ashburn.toml", r"^delivery = 2027-", "delivery = 9927-"),
        "lots[0].delivery",
    ),
    (
        "horizon-1000y",
        lambda s: edit(
            s / "ashburn.toml",
            r"^start_date = 2025-01-01",
            'start_date = 2025-01-01\n[scenario]\nhorizon = "1000 years"\n[sites.x]',
        ),
        "",
    ),
]


@pytest.mark.parametrize(
    ("change", "fragment"), [(c, f) for _, c, f in SITE_EDITS], ids=[i for i, _, _ in SITE_EDITS]
)
def test_hostile_values_are_refused_quickly(tmp_path: Path, change: Edit, fragment: str) -> None:
    sites = bundled_copy(tmp_path)
    changed = change(sites)
    err = refused_quickly("check", sites / "ashburn.toml")
    assert fragment in err
    assert str(changed) in err or changed.name in err


def test_hostile_values_through_set_and_years(tmp_path: Path) -> None:
    ashburn = SITES / "ashburn.toml"
    out = tmp_path / "out"
    many_words = "sites.ashburn.interconnection.request=1 " + " ".join(["W"] * 980)
    refused_quickly(
        "run", ashburn, "--out", out, "--set", many_words, fragments=("interconnection.request",)
    )
    for years in ("250", "300", "1000"):
        refused_quickly(
            "run", ashburn, "--out", out, "--years", years, fragments=("ends by 2200-01-01",)
        )
    assert not out.exists(), "refused before any output folder is made"


def test_santa_clara_cluster_windows_that_would_never_finish(tmp_path: Path) -> None:
    for window in ("1e-6 days", "1 planck_time"):
        refused_quickly(
            "run",
            SITES / "santa_clara.toml",
            "--out",
            tmp_path / "o",
            "--set",
            f"regions.caiso.cluster_window={window}",
            fragments=("cluster_window", "events per replication"),
        )


def _many(tmp_path: Path, table: str, count: int) -> Path:
    sites = bundled_copy(tmp_path)
    site = sites / "ashburn.toml"
    text = site.read_text(encoding="utf-8")
    block = text[text.index(f"[[{table}]]") :]
    block = block[: block.index("\n[", 1) + 1] if "\n[" in block[1:] else block
    names = re.compile(r'^name = "[^"]*"', re.M)
    extra = "".join(names.sub(f'name = "x{i}"', block) for i in range(count))
    site.write_text(text + "\n" + extra, encoding="utf-8")
    return site


@pytest.mark.parametrize(("table", "count"), [("lots", 100_000), ("halls", 20_000)])
def test_too_many_entries(tmp_path: Path, table: str, count: int) -> None:
    site = _many(tmp_path, table, count)
    if site.stat().st_size > 1_000_000:
        refused_quickly("check", site, fragments=("larger than",))
    else:
        refused_quickly("check", site, fragments=(f"{table}",))


def test_files_that_never_end_or_block(tmp_path: Path) -> None:
    refused_quickly("check", "/dev/zero", fragments=("not a regular file",))
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[scenario]\nname = "s"\nsites = ["/dev/urandom"]\n', encoding="utf-8")
    refused_quickly("check", scenario, fragments=("scenario.sites[0]",))
    sites = bundled_copy(tmp_path)
    (sites / "catalog" / "gpus.toml").unlink()
    (sites / "catalog" / "gpus.toml").symlink_to("/dev/zero")
    refused_quickly("check", sites / "ashburn.toml", fragments=("gpus.toml",))
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    scenario.write_text(f'[scenario]\nname = "s"\nsites = ["{fifo}"]\n', encoding="utf-8")
    refused_quickly("check", scenario, fragments=("scenario.sites[0]",))
    refused_quickly("check", fifo, fragments=("not a regular file",))


def test_deep_structures(tmp_path: Path) -> None:
    cases = {
        "arrays.toml": "a = " + "[" * 500 + "]" * 500 + "\n",
        "inline.toml": "a = " + "{b = " * 330 + "1" + "}" * 330 + "\n",
        "dotted.toml": "a" + ".a" * 20_000 + " = 1\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        refused_quickly("check", path, fragments=(str(path), "deep"))


def test_nested_and_diamond_includes(tmp_path: Path) -> None:
    shutil.copy(SITES / "ashburn.toml", tmp_path / "ashburn.toml")
    (tmp_path / "catalog").symlink_to(SITES / "catalog")
    # 974 files each including the next.
    for i in range(974):
        child = f"s{i + 1}.toml" if i < 973 else None
        include = f'include = ["{child}"]\n' if child else 'sites = ["ashburn.toml"]\n'
        (tmp_path / f"s{i}.toml").write_text(f'[scenario]\nname = "s"\n{include}', "utf-8")
    refused_quickly("check", tmp_path / "s0.toml", fragments=("nested at most",))
    # 25 levels, each including the next twice: read once each, so it loads at once.
    for i in range(25):
        child = f'"d{i + 1}.toml", "d{i + 1}.toml"' if i < 24 else '"ashburn.toml"'
        key = "include" if i < 24 else "sites"
        (tmp_path / f"d{i}.toml").write_text(
            f'[scenario]\nname = "d"\n{key} = [{child}]\n', "utf-8"
        )
    started = time.perf_counter()
    done = run_cli("check", tmp_path / "d20.toml", timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - started < QUICK
