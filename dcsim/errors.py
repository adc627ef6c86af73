"""The one exception family of dcsim.

Every error a user can cause is a :class:`DcsimError`. The CLI turns it into a
one-paragraph message and exit status 2; nothing else is caught there, so a bug
still shows its traceback.
"""

from __future__ import annotations

import datetime as dt


class DcsimError(ValueError):
    """Base class of every error dcsim raises on purpose.

    Subclasses ValueError so that callers who only know the builtin still catch it.
    Keeps its message as the single argument so it survives pickling across
    worker processes.
    """


class SpecError(DcsimError):
    """A site, scenario or catalog file says something dcsim cannot accept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @classmethod
    def at(
        cls,
        source: str,
        key: str,
        found: object,
        expected: str,
        hint: str = "",
    ) -> SpecError:
        """Build the standard message: where, which key, what was found, what is expected."""
        where = f"{source}: {key}" if key else source
        shown = _show(found)
        message = f"{where}: found {shown}; expected {expected}."
        if hint:
            message += f" {hint}"
        return cls(message)


def _show(found: object) -> str:
    """A found value as the user wrote it: TOML dates as dates, markers like <...> as is."""
    if isinstance(found, str) and found.startswith("<"):
        return found
    if isinstance(found, (dt.date, dt.time)):  # datetime is a date
        return found.isoformat()
    if isinstance(found, list):
        return "[" + ", ".join(_show(item) for item in found) + "]"
    if isinstance(found, dict):
        return "{" + ", ".join(f"{key} = {_show(value)}" for key, value in found.items()) + "}"
    return repr(found)
