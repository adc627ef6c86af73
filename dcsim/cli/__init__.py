"""Stage 5, the ``dcsim`` command: a thin layer over the Python API, no model logic.

:mod:`.commands` holds the group with check, run and report; :mod:`.whatif`
compare, sweep and cascade; :mod:`.common` the options and helpers they share.
"""

from dcsim.cli.commands import main

__all__ = ["main"]
