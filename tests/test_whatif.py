"""What-ifs: common random numbers, monotone levers, the cascade, the report."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import dcsim
from dcsim.experiments.cascade import cascade
from dcsim.experiments.compare import compare
from tests.support import HOURS, SITE_A, assert_refused, run_cli, scenario_file

ROOT = Path(__file__).resolve().parent.parent
ASHBURN = ROOT / "sites" / "ashburn.toml"


def test_comparing_a_scenario_with_itself_gives_exactly_zero() -> None:
    base = dcsim.load(ASHBURN)
    result = compare(base, {"same": dcsim.load(ASHBURN)}, replications=3, workers=1)
    table = result.table
    assert len(table) > 0
    assert (table["diff_mean"].fillna(0) == 0).all()
    assert (table["diff_ci95_low"].fillna(0) == 0).all()
    assert (table["diff_ci95_high"].fillna(0) == 0).all()
    idle = table[table["metric"] == "idle_gpu_hours"]
    assert len(idle) == 1 and idle["n"].iloc[0] == 3 and idle["diff_mean"].iloc[0] == 0
    assert not table["distinguishable"].any()


def test_a_real_lever_is_distinguishable_with_common_random_numbers() -> None:
    base = dcsim.load(ASHBURN)
    # Enough grid headroom that the site needs no network upgrade, and transformers ordered
    # at the request so that they do not bind instead: power comes sooner in every run.
    early = dcsim.override(base, {"regions.dominion.headroom": "100000 MW",
                                  "sites.ashburn.substation.order_policy": "at_request"})  # fmt: skip
    row = (
        compare(base, {"early": early}, replications=4, workers=1)
        .table.query("metric == 'first_power_days'")
        .iloc[0]
    )
    assert row["diff_mean"] < 0
    assert row["distinguishable"]


@settings(max_examples=12, deadline=None)
@given(
    design=st.integers(1, 400),
    shorter_by=st.integers(1, 400),
    study=st.integers(10, 300),
    delivery_day=st.integers(0, 300),
)
def test_shorter_transformer_lead_time_never_increases_idle_hours(
    tmp_path_factory: pytest.TempPathFactory,
    design: int,
    shorter_by: int,
    study: int,
    delivery_day: int,
) -> None:
    import datetime as dt

    folder = tmp_path_factory.mktemp("lever")
    delivery = dt.date(2025, 1, 1) + dt.timedelta(days=delivery_day)
    site = SITE_A.replace("delivery = 2025-05-31", f"delivery = {delivery}")
    base = dcsim.load(scenario_file(folder, site, study=f"{study} days"))
    faster = dcsim.override(
        base, {"transformer_supplies.t.design_time": f"{max(0, design - shorter_by)} days"}
    )
    base = dcsim.override(base, {"transformer_supplies.t.design_time": f"{design} days"})
    idle_base = dcsim.simulate(base).summary[0]["idle_gpu_hours"]
    idle_fast = dcsim.simulate(faster).summary[0]["idle_gpu_hours"]
    assert idle_fast <= idle_base


def test_cascade_on_a_deterministic_site_follows_the_hand_worked_order(tmp_path: Path) -> None:
    # Site A of test_hand_computed: 20,000 GPUs on site from day 150.
    # Base: building binds 150-200, installation 200-220: 70 days idle, building most.
    # Without the building: the hall is there at once; installation 150-170 (grid is
    #   also short until 160 but installation's shortfall ends later): 20 days.
    # Without installation too: GPUs installed at 150, the grid energizes at 160: 10 days.
    # Without the grid too: transformers are in service from day 142: nothing idle.
    spec = dcsim.load(scenario_file(tmp_path, SITE_A))
    table = cascade(spec, replications=2, workers=1).table
    assert table["layer_removed"].tolist() == ["-", "building", "installation", "grid"]
    assert table["binds_next"].tolist() == ["building", "installation", "grid", "-"]
    expected_days = [70, 20, 10, 0]
    assert table["idle_gpu_hours_mean"].tolist() == pytest.approx(
        [d * 20000 * HOURS for d in expected_days]
    )


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.titles: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            self.sources.append(values.get("src") or "")
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles.append(data)
            self._in_title = False


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    done = subprocess.run(
        ["dcsim", "run", str(ASHBURN), "--reps", "3", "--out", str(out), "--quiet", "--report"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return out


def test_report_html_parses_and_embeds_every_image(report_folder: Path) -> None:
    page = (report_folder / "report.html").read_text()
    parser = _Images()
    parser.feed(page)
    parser.close()
    assert parser.titles == ["dcsim report: ashburn"]
    embedded = []
    for source in parser.sources:
        assert source.startswith("data:image/png;base64,"), "images are embedded, not linked"
        data = base64.b64decode(source.split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            assert image.size[0] > 300 and image.size[1] > 150
        embedded.append(data)
    assert "http://" not in page and "https://" not in page, "no network needed to view it"
    # The PNGs beside the page are the very images it embeds.
    for png in ("timeline_ashburn.png", "distributions_ashburn.png"):
        assert (report_folder / png).read_bytes() in embedded


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="headless Chromium is not installed here"
    " (scripts/test installs Debian's chromium when it can)",
)
def test_report_renders_in_headless_chromium(report_folder: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    browser = _chromium()
    assert browser is not None
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,2000",
            f"--screenshot={shot}",
            (report_folder / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as opened:
        image = opened.convert("L")
    assert image.size == (1280, 2000)
    lo, hi = image.getextrema()
    assert hi - lo > 100, "the screenshot shows something, not a blank page"


def test_sweep_runs_the_full_factorial_and_charts_it_as_small_multiples(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    keys = ("sites.ashburn.substation.order_policy", "regions.dominion.study_engineers")
    done = subprocess.run(
        # A key given twice adds to its values.
        [
            "dcsim",
            "sweep",
            str(ASHBURN),
            "--grid",
            f"{keys[0]}=at_request",
            "--grid",
            f"{keys[0]}=at_agreement",
            "--grid",
            f"{keys[1]}=2,6",
            "--reps",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    import pandas as pd

    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 2 * 2 * 2  # points x replications x sites
    assert table.groupby(list(keys)).size().tolist() == [2, 2, 2, 2]
    # The printed table: each point's mean with its Student-t 95% interval, worked here.
    from scipy.stats import t as student_t

    from dcsim.output.numbers import big

    lines = done.stdout.splitlines()
    for (policy, engineers), group in table.groupby(list(keys)):
        idle = group["idle_gpu_hours"]
        half = float(student_t.ppf(0.975, len(idle) - 1)) * idle.std(ddof=1) / len(idle) ** 0.5
        row = next(line for line in lines if line.split()[:2] == [policy, str(engineers)])
        shown = (
            f"{big(idle.mean())} [{big(max(0.0, idle.mean() - half))}, {big(idle.mean() + half)}]"
        )
        assert shown in row, (shown, row)
    # One small-multiples chart: a column per key, a row per metric.
    with Image.open(out / "sweep.png") as chart:
        width, height = chart.size
    assert width > height * 0.6 and width > 700
    bad = subprocess.run(
        [
            "dcsim",
            "sweep",
            str(ASHBURN),
            "--grid",
            "sites.ashburn.interconnection.request=1 week",
            "--out",
            str(tmp_path / "bad"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "sites.ashburn.interconnection.request" in bad.stderr


def test_compare_cli_takes_set_and_whole_file_variants(tmp_path: Path) -> None:
    other = tmp_path / "ashburn_more_headroom.toml"
    text = ASHBURN.read_text()
    other.write_text(text)
    (tmp_path / "catalog").symlink_to(ROOT / "sites" / "catalog")
    out = tmp_path / "cmp"
    done = subprocess.run(
        [
            "dcsim",
            "compare",
            str(ASHBURN),
            "--reps",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            "--variant",
            f"copy={other}",
            "--variant",
            "bigger",
            "--set",
            "regions.dominion.headroom=100000 MW",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    import pandas as pd

    table = pd.read_csv(out / "compare.csv")
    assert set(table["variant"]) == {"copy", "bigger"}
    # Ranked by saving: the lever first, the copy (which saves nothing) after it.
    assert list(dict.fromkeys(table["variant"])) == ["bigger", "copy"]
    # The same file under another name draws the same numbers: no difference at all.
    assert (table.loc[table["variant"] != "bigger", "diff_mean"].fillna(0) == 0).all()
    # The --set variant is applied: no network upgrade to wait for, so power comes sooner.
    first = table[(table["variant"] == "bigger") & (table["metric"] == "first_power_days")]
    assert len(first) == 1 and first["diff_mean"].iloc[0] < 0
    with Image.open(out / "compare.png") as chart:
        chart.verify()
    for bad in (
        ["--set", "x=1"],
        ["--variant"],
        ["--variant", "a", "--oops"],
        ["--variant", "a"],  # a variant that changes nothing is refused
        ["--variant", "a", "--set", "sites.ashburn.halls[9].it_power=5 MW"],
        [],
    ):
        refused = subprocess.run(
            ["dcsim", "compare", str(ASHBURN), "--out", str(tmp_path / "x"), *bad],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert refused.returncode == 2, (bad, refused.stderr)
        assert "Traceback" not in refused.stderr


def test_a_variant_with_none_of_the_bases_sites_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    done = run_cli("compare", ASHBURN, "--reps", "2", "--years", "2", "--out", out,
                   "--variant", f"other={ROOT / 'sites' / 'santa_clara.toml'}")  # fmt: skip
    assert_refused(done, "variant 'other'", "santa_clara", "the base's (ashburn)")
    assert not out.exists()


def test_a_grid_value_given_twice_is_refused(tmp_path: Path) -> None:
    # Two points with the same draws would count the value's rows twice and narrow its
    # interval below what its replications give.
    done = run_cli("sweep", ASHBURN, "--reps", "2", "--years", "2", "--out", tmp_path / "s",
                   "--grid", "regions.dominion.upgrade_crews=2,2,12")  # fmt: skip
    assert_refused(done, "--grid regions.dominion.upgrade_crews: 2 given more than once")
    assert not (tmp_path / "s").exists()


def test_run_json_and_the_page_record_a_file_variant_and_its_own_sets(tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    shutil.copy(ASHBURN, copy)
    out = tmp_path / "out"
    done = run_cli("compare", ASHBURN, "--reps", "2", "--years", "2", "--out", out, "--quiet",
                   "--report", "--variant", f"f={copy}", "--set",
                   "regions.dominion.upgrade_crews=12", "--variant", f"g={copy}", "--variant",
                   "h", "--set", "scenario.seed=3", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    variants = json.loads((out / "run.json").read_text())["variants"]
    assert variants == {"f": {"file": str(copy), "set": ["regions.dominion.upgrade_crews=12"]},
                        "g": str(copy), "h": ["scenario.seed=3"]}  # fmt: skip
    page = (out / "report.html").read_text()
    assert f"the file {copy} --set regions.dominion.upgrade_crews=12" in page
    assert f"<code>the file {copy}</code>" in page
    assert "<code>--set scenario.seed=3</code>" in page


@pytest.mark.parametrize("case", ["a file", "no folder", "an empty folder"])
def test_report_refuses_what_is_not_a_results_folder(tmp_path: Path, case: str) -> None:
    target = {"a file": tmp_path / "notes.txt", "no folder": tmp_path / "none",
              "an empty folder": tmp_path / "empty"}[case]  # fmt: skip
    if case == "a file":
        target.write_text("mine")
    if case == "an empty folder":
        target.mkdir()
    done = run_cli("report", target)
    expected = {"a file": "not a folder", "no folder": "no such folder",
                "an empty folder": "holds no dcsim results"}[case]  # fmt: skip
    assert_refused(done, str(target), expected, "what-if")
    if case == "a file":
        assert target.read_text() == "mine"


def test_report_refuses_an_attribution_that_is_not_one_or_on_a_what_if(tmp_path: Path) -> None:
    run_folder, compare_folder = tmp_path / "run", tmp_path / "compare"
    assert run_cli("run", ASHBURN, "--reps", "2", "--years", "2", "--out", run_folder,
                   "--quiet", timeout=300).returncode == 0  # fmt: skip
    assert run_cli("compare", ASHBURN, "--reps", "2", "--years", "2", "--out", compare_folder,
                   "--quiet", "--variant", "v", "--set", "scenario.seed=3",
                   timeout=300).returncode == 0  # fmt: skip
    not_one = run_cli("report", run_folder, "--attribution", compare_folder)
    assert_refused(not_one, f"--attribution {compare_folder}: holds no attribution.csv")
    on_what_if = run_cli("report", compare_folder, "--attribution", run_folder)
    assert_refused(on_what_if, f"--attribution {run_folder}", "holds a what-if's")
    assert not (run_folder / "report.html").exists()
