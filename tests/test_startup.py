"""What a command loads before its first task can go to the workers."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


def _in_fresh_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
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
