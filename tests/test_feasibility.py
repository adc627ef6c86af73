"""dcsim check warns about sites that load but cannot work, and --strict refuses them.

Ashburn as bundled: two 120 MW direct-liquid halls, 2 x 55,000 GB300 (2.09 kW each,
115 MW of IT per lot), a 300 MW request and four 120 MVA transformers, one a spare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dcsim
from dcsim.input.feasibility import site_warnings
from tests.support import SITES, assert_refused, edited_ashburn, run_in_process


def _more_gpus(doc: dict[str, Any]) -> None:
    doc["lots"][1]["count"] = 70000  # 55,000 + 70,000 GPUs x 2.09 kW = 261 MW > 240 MW


def _air_only(doc: dict[str, Any]) -> None:
    for hall in doc["halls"]:
        hall["cooling"] = "air"  # GB300 needs liquid; no retrofit is given


def _late_lot(doc: dict[str, Any]) -> None:
    doc["lots"][1]["delivery"] = doc["lots"][1]["delivery"].replace(year=2034)
    doc["lots"][1]["delay"] = "1 year"  # 2034 + 1 year is past the 2035 horizon


def _small_request(doc: dict[str, Any]) -> None:
    # 230 MW of GPUs in halls at PUE ~1.2 need ~276 MW; 200 MW is requested.
    doc["interconnection"]["request"] = "200 MW"
    doc["interconnection"]["tranches"] = [{"power": "200 MW", "earliest": doc["interconnection"]
                                          ["tranches"][0]["earliest"]}]  # fmt: skip


def _thin_substation(doc: dict[str, Any]) -> None:
    doc["substation"]["spares"] = 2  # 2 x 120 MVA x 0.95 = 228 MW < 300 MW


def _idle_spare(doc: dict[str, Any]) -> None:
    doc["onsite"] = {"block": "10 MW", "blocks": 2, "spare_blocks": 1, "start": dt.date(2025, 1, 1),
                     "permit_time": "30 days", "lead_time": "30 days"}  # fmt: skip


CASES = [  # (edit, how each warning starts, what it says)
    (_more_gpus, ["sites.ashburn.lots: the GPUs draw"], "MW of GPUs can never run"),
    (
        _air_only,  # one per lot; no peak-demand warning, as none of these GPUs can run
        ["sites.ashburn.lots[0] (gb300-a): GB300 needs", "sites.ashburn.lots[1] (gb300-b)"],
        "no hall has or gets it",
    ),
    (_late_lot, ["sites.ashburn.lots[1] (gb300-b): delivered"], "on or after the horizon"),
    (_small_request, ["sites.ashburn.interconnection.request: 200.0 MW is less than"], "peak"),
    (_thin_substation, ["sites.ashburn.substation: 2 carrying transformer(s)"], "228.0 MW"),
    (_idle_spare, ["sites.ashburn.onsite.spare_blocks: 1 spare block(s)"], "never run"),
]


def test_a_spare_block_with_gear_from_a_market_is_not_warned_about(tmp_path: Path) -> None:
    # Its turbine may come before another block's and carry load until that one's does.
    def spare_with_turbines(doc: dict[str, Any]) -> None:
        _idle_spare(doc)
        doc["onsite"]["turbine_supply"] = "north_america"

    spec = dcsim.load(edited_ashburn(tmp_path, spare_with_turbines))
    assert not [w for w in site_warnings(spec) if "spare_blocks" in w]


def test_the_bundled_sites_raise_no_warning() -> None:
    for path in sorted(SITES.glob("*.toml")):
        assert site_warnings(dcsim.load(path)) == [], path


@pytest.mark.parametrize(("edit", "starts", "detail"), CASES,
                         ids=[case[0].__name__.strip("_") for case in CASES])  # fmt: skip
def test_each_warning(tmp_path: Path, edit: Callable[[dict[str, Any]], None], starts: list[str],
                      detail: str) -> None:  # fmt: skip
    warnings = site_warnings(dcsim.load(edited_ashburn(tmp_path, edit)))
    assert len(warnings) == len(starts), warnings
    for warning, start in zip(warnings, starts, strict=True):
        assert warning.startswith(start) and detail in warning, warning


def test_check_prints_warnings_and_exits_0_and_strict_refuses(tmp_path: Path) -> None:
    path = edited_ashburn(tmp_path, _more_gpus)
    done = run_in_process("check", path)
    assert done.returncode == 0, done.stderr
    assert f"dcsim: warning: {path}: sites.ashburn.lots: the GPUs draw" in done.stderr
    assert f"{path}: ok" in done.stdout
    strict = run_in_process("check", path, "--strict")
    assert_refused(strict, str(path), "MW of GPUs can never run", "--strict")
    assert strict.stdout == ""
