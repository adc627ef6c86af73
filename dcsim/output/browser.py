"""Headless Chromium, for a screenshot of a report (``dcsim report DIR --screenshot``).

Chromium is not a dependency: it is found on the PATH (Debian's package is
``chromium``), and asked for only when a screenshot is. It runs headless, with
a new empty profile and no background network traffic, so it needs no display
and no network.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from dcsim.errors import DcsimError

SCREEN = (1300, 900)  # the first screen a planner sees, in CSS pixels
_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root in a container Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Chromium headless with ``args`` (and a throwaway profile)."""
    browser = chromium()
    if browser is None:
        raise DcsimError(
            "--screenshot needs Chromium on the PATH (on Debian: apt-get install chromium);"
            " the report itself was written."
        )
    with tempfile.TemporaryDirectory(prefix="dcsim-chromium-") as profile:
        try:
            done = subprocess.run([browser, *_FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_output=True, text=True, timeout=timeout,
                                  check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise DcsimError(f"Chromium did not finish within {timeout:.0f} s.") from None
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise DcsimError(f"Chromium failed (exit status {done.returncode}): {last[0]}")
    return done


def screenshot(page: Path, png: Path, size: tuple[int, int] = SCREEN) -> Path:
    """A PNG of the first screen of ``page``, written whole (a temporary name, then renamed)."""
    partial = png.with_name(f".{png.stem}.partial{png.suffix}")  # Chromium wants .png
    try:
        run_chromium([f"--window-size={size[0]},{size[1]}", f"--screenshot={partial}",
                      page.resolve().as_uri()])  # fmt: skip
        if not partial.exists():
            raise DcsimError("Chromium wrote no screenshot.")
        partial.replace(png)
    finally:
        partial.unlink(missing_ok=True)
    return png
