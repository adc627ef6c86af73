"""Every report, looked at in a browser: charts there, no text on text, the context said.

Each report (run, compare, cascade, sweep, attribute) is rendered in headless
Chromium and measured from the page itself (tests/layout_check.py): every chart
decodes and fits the page, no two blocks of text or images overlap, no text
spills out of its box. The what-if pages say what they compare before any
number, and their tables read as the terminal does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from dcsim.output.browser import chromium
from tests.layout_check import layout
from tests.support import ASHBURN, assert_refused, run_cli

pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="headless Chromium is not installed here (scripts/test installs Debian's chromium)",
)
QUICK = ("--years", "5", "--reps", "3", "--quiet", "--report")
COMMANDS = {
    "run": ("run", str(ASHBURN), *QUICK),
    "compare": ("compare", str(ASHBURN), *QUICK, "--variant", "interim-service", "--set",
                "sites.ashburn.interconnection.interim_service=true", "--variant", "crews",
                "--set", "regions.dominion.upgrade_crews=12"),
    "cascade": ("cascade", str(ASHBURN), *QUICK),
    "sweep": ("sweep", str(ASHBURN), *QUICK, "--grid", "regions.dominion.upgrade_crews=6,12",
              "--grid", "sites.ashburn.substation.order_policy=at_request,at_agreement"),
    "attribute": ("attribute", str(ASHBURN), *QUICK),
}  # fmt: skip
CHARTS = {"run": 3, "compare": 1, "cascade": 1, "sweep": 1, "attribute": 1}  # at least


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pages")
    folders = {}
    for name, args in COMMANDS.items():
        out = root / name
        done = run_cli(*args, "--out", out, timeout=600)
        assert done.returncode == 0, (name, done.stderr)
        folders[name] = out
    return folders


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_the_page_shows_every_chart_and_no_text_over_text(
    reports: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    found = layout(reports[kind] / "report.html", tmp_path)
    images = found["images"]
    assert len(images) >= CHARTS[kind], images
    assert all(image["decoded"] for image in images), "every chart decodes"
    assert all(image["right"] <= found["page_width"] + 1 for image in images), "charts fit"
    assert found["overlaps"] == [], found["overlaps"][:5]
    assert found["overflows"] == [], found["overflows"][:5]


def test_the_check_sees_an_overlap_when_there_is_one(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<html><body><p style='position:absolute;top:10px'>first words</p>"
        "<p style='position:absolute;top:12px'>second words</p>"
        "<table><tr><td style='max-width:20px;overflow:hidden;white-space:nowrap'>"
        "a cell far too narrow for its text</td></tr></table></body></html>"
    )
    found = layout(page, tmp_path)
    assert found["overlaps"] and found["overflows"]


def test_a_what_if_page_says_what_it_compares_and_how_to_rerun_it(
    reports: dict[str, Path],
) -> None:
    page = (reports["compare"] / "report.html").read_text()
    for words in ("sites/ashburn.toml", "variant interim-service",
                  "--set sites.ashburn.interconnection.interim_service=true", "rerun with",
                  "dcsim compare", "idle GPU-hours", " yr"):  # fmt: skip
        assert words in page, words
    assert "e+0" not in page and "idle_gpu_hours_switchgear" not in page  # no raw dump
    sweep = (reports["sweep"] / "report.html").read_text()
    assert "swept regions.dominion.upgrade_crews" in sweep
    assert "Sweep: the table" in sweep and "idle GPU-hours (95% CI)" in sweep
    run = (reports["run"] / "report.html").read_text()
    assert "Next step" in run and "dcsim compare" in run and "binding share" in run


def test_dcsim_report_keeps_a_screenshot_of_the_first_screen(reports: dict[str, Path]) -> None:
    done = run_cli("report", reports["cascade"], "--force", "--screenshot", timeout=300)
    assert done.returncode == 0, done.stderr
    with Image.open(reports["cascade"] / "report.png") as opened:
        shot = opened.convert("L")
    assert shot.size == (1300, 900)
    low, high = shot.getextrema()
    assert high - low > 100, "the screenshot shows the page, not a blank screen"
    assert not list(reports["cascade"].glob(".*partial*")), "no half-written file is left"


def test_the_first_screen_gives_shapley_shares_when_attribute_was_run(
    reports: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(reports["run"], folder)
    done = run_cli("report", folder, "--force", "--attribution", reports["attribute"])
    assert done.returncode == 0, done.stderr
    page = (folder / "report.html").read_text()
    assert "which layer holds them (Shapley share, from attribute)" in page
    assert "(binding share)</th>" not in page, "one measure, and the header says which"
    shares = pd.read_csv(reports["attribute"] / "attribution.csv")
    top = shares.sort_values("shapley_share").iloc[-1]
    assert f"{top['layer']} {top['shapley_share']:.0%}" in page
    found = layout(folder / "report.html", tmp_path)
    assert found["overlaps"] == [] and found["overflows"] == []
    # An attribute of another scenario is refused, and says why.
    other = tmp_path / "other"
    shutil.copytree(reports["attribute"], other)
    info = json.loads((other / "run.json").read_text())
    info["scenario"] = "somewhere-else"
    (other / "run.json").write_text(json.dumps(info))
    assert_refused(run_cli("report", folder, "--force", "--attribution", other),
                   "--attribution", "somewhere-else")  # fmt: skip
