"""Stage 5, the ``dcsim`` command: a thin layer over the Python API, no model logic.

:mod:`.commands` holds the group with check, run and report; :mod:`.whatif`
compare, sweep and cascade; :mod:`.common` the options and helpers they share.
"""

import os
import sys

from dcsim.cli.commands import main


def program() -> None:
    """The ``dcsim`` program (and ``python -m dcsim``): :func:`main`, and after an
    interrupt an exit at once.

    Once an interrupted run has said what it kept, every file is whole; what is left is
    the interpreter's own exit, which joins the process pool's manager thread, and after
    the pool's workers were ended that join can wait for good (seen once in CI: a
    SIGTERM the run never ended after). Called from Python, :func:`main` exits as usual.
    """
    try:
        main(prog_name="dcsim")
    except SystemExit as done:
        if done.code == 130:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise


__all__ = ["main", "program"]
