"""Write files so that a reader never sees half of one, and nothing is overwritten by surprise."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dcsim.errors import DcsimError
from dcsim.output.folders import is_replaceable


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_write(path: Path, *, force: bool = False, binary: bool = False) -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place at the end.

    Only a regular file is ever replaced (with ``force``); a link, device, FIFO
    or socket at ``path`` is refused. If the block raises (Ctrl-C, a full disk)
    the temporary file is removed and ``path`` is left as it was; an OSError
    becomes a DcsimError that names the file.
    """
    path = Path(path)
    if path.is_dir():
        raise DcsimError(f"{path}: is a folder; give a file name.")
    if not is_replaceable(path):
        raise DcsimError(
            f"{path}: is a link, device, pipe or socket; dcsim writes only regular files."
            " Give another file name."
        )
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
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise DcsimError(
            f"{path}: could not be written ({exc.strerror or exc}); it was left as it was."
        ) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
