"""Output folders: refuse what must not be replaced, clean what an interrupted run left,
and let only one run write into a folder at a time.

``--force`` replaces regular files only: a link, device, FIFO or socket among
a folder's entries is refused, so that no output ever lands through a link or
on a device. It removes what an earlier dcsim run wrote there (:data:`OUTPUTS`),
so nothing stale is left beside the new files; other files are kept. Files
named ``.NAME.partial`` are what a killed run left behind (see
:mod:`dcsim.output.atomic`); a ``--force`` run removes them too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from dcsim.errors import DcsimError

LOCK_NAME = ".dcsim.lock"
PARTIAL_FOLDER = ".dcsim-partial"  # an unfinished run's tasks and tables (output.checkpoint)
# What dcsim writes into a folder: a --force run removes the last run's copies first, so
# that no stale chart, report or table (a CSV beside a new Parquet run, say) is left.
OUTPUTS = ("events.*", "events_background.*", "ocel.json", "timeseries.*", "summary.*",
           "stats.*", "scurves.*", "migration.*", "funnel.*", "run.json", "report.html",
           "*.png", "compare.csv", "sweep.csv", "cascade.csv", "attribution.csv",
           "interactions.csv")  # fmt: skip

OCEL_WORK_FOLDER = ".dcsim-ocel"  # where the Python API assembles ocel.json
WORK_FOLDERS = (PARTIAL_FOLDER, OCEL_WORK_FOLDER)  # a run's work in progress, never a result


def is_replaceable(path: Path) -> bool:
    """Whether ``path`` is absent or a regular file (not a link, device, FIFO or socket)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return True
    return stat.S_ISREG(mode)


def prepare_folder(folder: Path, force: bool) -> None:
    """Make ``folder`` ready for a run's files, or refuse with a clear error."""
    if folder.exists() and not folder.is_dir():
        raise DcsimError(f"{folder}: exists and is not a folder; choose another --out.")
    entries = [e for e in folder.iterdir() if e.name != LOCK_NAME] if folder.is_dir() else []
    if entries and not force:
        if (folder / PARTIAL_FOLDER).is_dir():
            raise DcsimError(
                f"{folder}: holds a run that did not finish; pass --resume (with the same"
                " arguments) to go on from the replications it finished, or --force to"
                " start again."
            )
        raise DcsimError(
            f"{folder}: already holds files; dcsim will not overwrite them."
            " Choose an empty or new folder (--out), or pass --force"
            " (force=True from Python)."
        )
    for entry in entries:
        if not (is_replaceable(entry) or (entry.is_dir() and not entry.is_symlink())):
            raise DcsimError(
                f"{entry}: is a link, device, pipe or socket; --force replaces only regular"
                " files. Move it away or choose another --out."
            )
    for entry in entries:
        if entry.name in WORK_FOLDERS and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)  # what an unfinished run had done: started again
            continue
        stale = any(entry.match(pattern) for pattern in OUTPUTS) and entry.is_file()
        if stale or (entry.name.startswith(".") and entry.name.endswith(".partial")):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()  # the last run's outputs, or a killed run's partial files
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DcsimError(
            f"{folder}: cannot create this folder ({exc.strerror}); choose another --out."
        ) from None


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for one run: a second run into it is refused while this one writes.

    A folder created here and left empty (the run was refused) is removed again.
    """
    if folder.exists() and not folder.is_dir():
        raise DcsimError(f"{folder}: exists and is not a folder; choose another --out.")
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise DcsimError(
            f"{folder}: cannot write here ({exc.strerror}); choose another --out."
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DcsimError(
            f"{folder}: another dcsim run is writing into this folder; wait for it to"
            " finish or choose another --out."
        ) from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(folder / LOCK_NAME)
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: nothing was written
