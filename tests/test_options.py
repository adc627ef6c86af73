"""Options say what they do, and do it."""

from __future__ import annotations

from pathlib import Path

from tests.support import SITES, run_cli

ASHBURN = SITES / "ashburn.toml"


def test_quiet_hides_progress_not_the_result(tmp_path: Path) -> None:
    done = run_cli("sweep", ASHBURN, "--grid", "sites.ashburn.substation.order_policy="
                   "at_request,at_agreement", "--reps", "1", "--workers", "1",
                   "--out", tmp_path / "s", "--quiet", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "idle GPU-hours (95% CI)" in done.stdout and "at_request" in done.stdout
    assert done.stderr == "", "no progress lines"
    run = run_cli("run", ASHBURN, "--reps", "1", "--out", tmp_path / "r", "--quiet")
    assert "idle GPU-hours" in run.stdout and "wrote" not in run.stdout


def test_compare_help_lists_variant_and_set() -> None:
    done = run_cli("compare", "--help")
    assert done.returncode == 0
    assert "--variant NAME" in done.stdout and "--set KEY=VALUE" in done.stdout


def test_an_unquoted_set_value_says_to_quote_it(tmp_path: Path) -> None:
    done = run_cli("run", ASHBURN, "--out", tmp_path / "o",
                   "--set", "sites.ashburn.interconnection.request=300", "MW")  # fmt: skip
    assert done.returncode == 2
    assert "unexpected extra argument (MW)" in done.stderr
    assert 'must be quoted: --set "KEY=300 MW"' in done.stderr


def test_a_horizon_before_any_delivery_says_so(tmp_path: Path) -> None:
    done = run_cli("run", ASHBURN, "--years", "1", "--reps", "1", "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    assert (
        "ashburn: no GPUs stood on the site within the horizon (it ends 2026-01-01;" in done.stdout
    )
    assert "first lot is contracted for 2027-12-01" in done.stdout
