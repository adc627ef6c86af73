"""Stage 5, the ``dcsim`` command: a thin layer over the Python API, no model logic.

:mod:`.commands` holds the group with check, run and report; :mod:`.whatif`
compare, sweep and cascade; :mod:`.common` the options and helpers they share.
"""

import os
import sys
from typing import Any


def program() -> None:
    """The ``dcsim`` program (and ``python -m dcsim``): :func:`main`, then an exit at once.

    When :func:`main` is done, every file is whole and closed and every worker ended;
    what is left is the interpreter's own exit. That exit is skipped: it joins the
    process pool's manager thread, which after an interrupt can wait for good (seen once
    in CI: a SIGTERM the run never ended after), and while it runs Ctrl-C and SIGTERM are
    back to killing the process outright, with no word of what was written (a signal a
    moment after a run finished). Called from Python, :func:`main` exits as usual.
    """
    try:
        # Here, not at the top: importing the commands (pandas, pint, NumPy) takes a
        # moment, and a Ctrl-C in it must end with dcsim's word, not a traceback.
        from dcsim.cli.commands import main
    except KeyboardInterrupt:
        sys.stderr.write("dcsim: interrupted; no output was written.\n")
        os._exit(130)
    try:
        main(prog_name="dcsim")
    except SystemExit as done:
        code = done.code
        sys.stdout.flush()
        sys.stderr.flush()
        if code is None or isinstance(code, int):
            os._exit(code or 0)
        raise  # a message as the exit code (click's usage errors print and exit with 2)


def __getattr__(name: str) -> Any:
    if name == "main":  # the click group, for callers that run it themselves
        from dcsim.cli.commands import main

        return main
    raise AttributeError(f"module 'dcsim.cli' has no attribute {name!r}")


__all__ = ["main", "program"]
