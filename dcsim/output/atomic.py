"""Write files so that a reader never sees half of one, and nothing is overwritten by surprise."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dcsim.errors import DcsimError


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_write(path: Path, *, force: bool = False, binary: bool = False) -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place at the end.

    If the block raises (Ctrl-C included) the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise DcsimError(f"{path}: is a folder; give a file name.")
    if path.exists() and not force:
        raise DcsimError(
            f"{path}: already exists; dcsim does not overwrite files unless you pass --force."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise DcsimError(f"{path}: cannot be written ({exc.strerror}).") from None
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        handle: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        )
        with handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
