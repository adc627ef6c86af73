"""What a command loads before its first task can go to the workers."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a new Python in the project's folder (the bundled sites at hand)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)  # fmt: skip


def _in_fresh_python(code: str) -> str:
    done = _fresh_python(code)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("optional", ["dask", "scipy"])
def test_units_keep_pint_from_importing_optional_packages(optional: str) -> None:
    """pint imports SciPy and Dask when they are installed; dcsim hides them from it
    (tens of milliseconds of every start-up) and hands them back at once."""
    if importlib.util.find_spec(optional) is None:
        pytest.skip(f"{optional} is not installed: nothing to hide")
    code = (
        "import sys, importlib\n"
        "import dcsim.cli\n"
        f"print({optional!r} in sys.modules)\n"
        f"importlib.import_module({optional!r})\n"  # still importable afterwards
        f"print(sys.modules[{optional!r}] is not None)\n"
    )
    assert _in_fresh_python(code).split() == ["False", "True"]


def test_units_leave_an_imported_package_in_place() -> None:
    """A package the caller imported before dcsim is neither hidden nor taken away."""
    if importlib.util.find_spec("scipy") is None:
        pytest.skip("scipy is not installed")
    code = "import scipy, sys\nimport dcsim.input.units\nprint(sys.modules['scipy'] is scipy)"
    assert _in_fresh_python(code) == "True"


@pytest.mark.parametrize("arguments", [["--help"], ["check", "sites/portfolio.toml"]])
def test_check_and_help_load_no_table_or_simulation_package(arguments: list[str]) -> None:
    """`dcsim check` and `dcsim --help` read a file or print text: they must not wait for
    pandas, pyarrow or SimPy (pandas and what it brings were ~0.2 s of their 0.5 s)."""
    code = (
        "import sys\n"
        "from dcsim.cli.commands import main\n"
        "try:\n"
        f"    main({arguments!r}, prog_name='dcsim')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'simpy') if m in sys.modules),"
        " file=sys.stderr)\n"
    )
    done = _fresh_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


def test_import_dcsim_loads_none_of_its_dependencies() -> None:
    """`import dcsim` (what `dcsim` and `python -m dcsim` do first) loads only the errors:
    everything else is loaded on first use, where the command handles a Ctrl-C."""
    code = (
        "import sys\n"
        "import dcsim\n"
        "print(sorted(m for m in ('numpy', 'pint', 'pandas', 'click', 'dcsim.input.load')"
        " if m in sys.modules))\n"
        "print(dcsim.load.__module__, len(dcsim.LAYERS) > 0, isinstance(dcsim.__version__, str))\n"
    )
    assert _in_fresh_python(code).splitlines() == ["[]", "dcsim.input.load True True"]


def test_ctrl_c_while_the_commands_load_ends_with_one_message() -> None:
    """A Ctrl-C while `dcsim` imports its commands (most of its start-up): exit 130 and
    dcsim's word, no traceback. The interrupt is raised by an import hook, where a real
    one lands at random."""
    code = (
        "import sys\n"
        "class Interrupting:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'dcsim.cli.commands':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupting())\n"
        "sys.argv = ['dcsim', 'check', 'sites/ashburn.toml']\n"
        "from dcsim.cli import program\n"
        "program()\n"
    )
    done = _fresh_python(code)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "dcsim: interrupted; no output was written.\n"
