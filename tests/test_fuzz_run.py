"""Fuzz the whole command: mutated bundled files are checked, and what passes is run.

Each case copies the bundled sites and catalog, applies one to three text
mutations to one file (delete or duplicate a line, swap the values of two
keys, change a unit, flip a digit, put in a huge or a tiny number), and runs
``dcsim run`` on a top-level file for one replication of a short horizon.
The only outcomes allowed are exit 0 and exit 2 with one message, never a
traceback, and never more than a few seconds.

Cases are drawn from a seeded generator, so a failure names the seed that
replays it; files that once failed are kept in tests/fuzz_corpus/ and run
every time.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.support import REPO, SITES, run_in_process

CORPUS = REPO / "tests" / "fuzz_corpus"
FILES = sorted(p.relative_to(SITES) for p in [*SITES.glob("*.toml"), *SITES.glob("catalog/*.toml")])
TOP = [p for p in FILES if p.parent == Path(".") and p.name != "portfolio.toml"]
ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w.\-]*\s*=\s*)(.+)$")
QUANTITY = re.compile(r'"(-?[0-9.eE+_,]+) ([^"]+)"')
UNITS = ["MW", "MVA", "kW", "days", "weeks", "years", "GPU/week", "units/year", "USD",
         "requests/year", "m", "degC", "%", "1/day", "s"]  # fmt: skip
NUMBERS = ["0", "-1", "1e300", "1e-300", "10000000000000000000", "1e15", "0.000001", "nan",
           "inf", "3.5", "99999999"]  # fmt: skip
SECONDS = 8.0


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        kind = rng.choice(["delete", "duplicate", "swap", "unit", "digit", "number"])
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = rng.randrange(len(lines))
            a, b = ASSIGNMENT.match(lines[i]), ASSIGNMENT.match(lines[j])
            if a and b:
                lines[i], lines[j] = a.group(1) + b.group(2), b.group(1) + a.group(2)
        elif kind == "unit":
            lines[i] = QUANTITY.sub(lambda m: f'"{m.group(1)} {rng.choice(UNITS)}"', lines[i], 1)
        elif kind == "digit":
            digits = [k for k, c in enumerate(lines[i]) if c.isdigit()]
            if digits:
                k = rng.choice(digits)
                lines[i] = lines[i][:k] + str(rng.randrange(10)) + lines[i][k + 1 :]
        else:
            match = ASSIGNMENT.match(lines[i])
            if match:
                value = rng.choice(NUMBERS)
                quoted = match.group(2).startswith('"')
                lines[i] = match.group(1) + (f'"{value} {rng.choice(UNITS)}"' if quoted else value)
    return "\n".join(lines) + "\n"


def run_case(folder: Path, top: Path) -> None:
    out = folder / "out"
    started = time.perf_counter()
    result = run_in_process("run", folder / top, "--reps", "1", "--years", "2", "--workers", "1",
                            "--out", out, "--quiet")  # fmt: skip
    elapsed = time.perf_counter() - started
    assert result.returncode in (0, 2), (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    if result.returncode == 2:
        assert result.stderr.startswith("dcsim: error: ")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"


def _case(tmp_path: Path, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    folder = tmp_path / f"case{seed}"
    shutil.copytree(SITES, folder)
    target = rng.choice(FILES)
    path = folder / target
    path.write_text(mutate(path.read_text(encoding="utf-8"), rng), encoding="utf-8")
    return folder, rng.choice(TOP) if target.parent != Path(".") else target


@pytest.mark.parametrize("seed", range(50))  # the other 1,950 in the slow suite
def test_mutated_files_run_or_are_refused(tmp_path: Path, seed: int) -> None:
    folder, top = _case(tmp_path, seed)
    run_case(folder, top)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(50, 2000))
def test_many_more_mutated_files(tmp_path: Path, seed: int) -> None:
    folder, top = _case(tmp_path, seed)
    run_case(folder, top)


@pytest.mark.parametrize("case", sorted(CORPUS.glob("*.toml")), ids=lambda p: p.name)
def test_the_corpus_of_once_failing_files(tmp_path: Path, case: Path) -> None:
    # A corpus file replaces ashburn.toml beside the bundled catalog.
    folder = tmp_path / "sites"
    shutil.copytree(SITES, folder)
    shutil.copy(case, folder / "ashburn.toml")
    run_case(folder, Path("ashburn.toml"))
