"""Every dcsim and script command in the README runs, as a user would type it."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    commands = []
    for block in blocks:
        # A command continued with a trailing backslash is one command.
        for line in block.replace("\\\n", " ").splitlines():
            line = " ".join(line.split(" #")[0].split())
            if line.startswith(("dcsim ", "python3 -m pip install", "scripts/", "python ")):
                commands.append(line)
    return commands


def test_readme_gives_the_install_and_run_command_and_the_test_command() -> None:
    commands = readme_commands()
    assert any(c.startswith("python3 -m pip install") and "dcsim run" in c for c in commands)
    assert "scripts/test" in commands


def _prepare(command: str, tmp_path: Path, fast: bool) -> list[str] | None:
    if command == "scripts/test" or command.startswith("python3 -m pip install"):
        if "&&" not in command:
            return None  # the test runner itself: this suite is what it runs
        command = command.split("&&", 1)[1].strip()  # the package is installed already
    args = shlex.split(command)
    if fast and "--reps" in args:
        # Two replications (attribute: one, of three years, still 256 runs): enough for
        # every code path.
        args[args.index("--reps") + 1] = "1" if args[1] == "attribute" else "2"
        if args[1] == "attribute" and "--years" not in args:
            args += ["--years", "3"]
    # Outputs go to a scratch folder, never into the checkout.
    for flag in ("--out", "-o"):
        if flag in args:
            args[args.index(flag) + 1] = str(tmp_path / Path(args[args.index(flag) + 1]).name)
    return args


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=1800, shell=False)


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command: str, tmp_path: Path) -> None:
    args = _prepare(command, tmp_path, fast=True)
    if args is None:
        pytest.skip("the test command runs this suite")
    if any("*" in a for a in args):
        matches = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(args[2]))
        args = [*args[:2], *matches, *args[3:]]  # the shell would expand the glob
    done = _run(args)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_readme_main_command_as_written(tmp_path: Path) -> None:
    command = next(c for c in readme_commands() if c.startswith("python3 -m pip install"))
    args = _prepare(command, tmp_path, fast=False)
    assert args is not None
    done = _run(args)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / Path(args[args.index("--out") + 1]).name
    import json

    import pandas as pd

    reps = int(args[args.index("--reps") + 1])
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == reps * 4 and summary["replication"].nunique() == reps
    assert json.loads((out / "run.json").read_text())["replications"] == reps
    assert "idle GPU-hours" in done.stdout, "the per-site table is printed"


def test_readme_tables_of_event_types_and_layers_are_the_generated_ones() -> None:
    from dcsim.model import events, layers

    assert events.markdown_table() in README
    assert layers.markdown_table() in README


def test_readme_table_of_input_limits_is_the_generated_one() -> None:
    from dcsim.input import limits

    assert limits.markdown_table() in README
