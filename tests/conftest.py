"""Shared helpers: the bundled example site, TOML editing, and running the real CLI."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

REPO = Path(__file__).resolve().parent.parent
SITES = REPO / "sites"
CATALOG = SITES / "catalog"
ASHBURN = SITES / "ashburn.toml"


def ashburn_text() -> str:
    return ASHBURN.read_text(encoding="utf-8")


def ashburn_doc() -> dict[str, Any]:
    return tomllib.loads(ashburn_text())


def sub_once(text: str, pattern: str, replacement: str) -> tuple[str, int]:
    """Replace the first match of ``pattern`` (a multi-line regex); return the new text and
    the 1-based line the match started on. Fails loudly if the example no longer matches."""
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match is not None, f"{pattern!r} no longer matches the example text"
    line = text.count("\n", 0, match.start()) + 1
    return text[:match.start()] + match.expand(replacement) + text[match.end():], line


def write_text(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_doc(folder: Path, name: str, doc: dict[str, Any]) -> Path:
    return write_text(folder, name, tomli_w.dumps(doc))


def edited_ashburn(folder: Path, edit: Callable[[dict[str, Any]], object] | None = None,
                   name: str = "ashburn.toml") -> Path:
    """A copy of the bundled example in ``folder``, with ``edit`` applied to its parsed dict."""
    if edit is None:
        return write_text(folder, name, ashburn_text())
    doc = ashburn_doc()
    edit(doc)
    return write_doc(folder, name, doc)


def run_cli(*args: str | Path, cwd: Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m dcsim ARGS`` exactly as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "dcsim", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False,
    )


def run_in_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The same command through click's test runner: the CLI code without a new process.

    Used for the many variants of a rule; each rule also has a case through
    :func:`run_cli`. An exception that escapes the command is written to stderr
    as its traceback, as the real command would show it.
    """
    from click.testing import CliRunner

    from dcsim.cli import main

    argv = [str(a) for a in args]
    result = CliRunner().invoke(main, argv, prog_name="dcsim")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["dcsim", *argv], result.exit_code, result.stdout,
                                       stderr)


def assert_refused(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit status 2, one 'dcsim: error:' paragraph holding every fragment, no traceback."""
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err, err
    assert err.startswith("dcsim: error: "), err
    assert err.count("dcsim: error:") == 1, err
    assert len(err.strip().splitlines()) == 1, f"expected one paragraph, got:\n{err}"
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in stderr:\n{err}"
    return err
