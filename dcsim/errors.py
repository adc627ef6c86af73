"""The one exception family of dcsim.

Every error a user can cause is a :class:`DcsimError`. The CLI turns it into a
one-paragraph message and exit status 2; nothing else is caught there, so a bug
still shows its traceback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


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


MAX_SHOWN = 120  # characters of a found value echoed in a message


def _show(found: object) -> str:
    """A found value as the user wrote it, cut to MAX_SHOWN characters."""
    text = _full(found)
    if len(text) > MAX_SHOWN:
        return f"{text[: MAX_SHOWN - 20]}… ({len(text):,} characters)"
    return text


def _full(found: object) -> str:
    """TOML dates as dates, markers like <...> as is, the rest as TOML-ish text."""
    if isinstance(found, str) and found.startswith("<"):
        return found
    if isinstance(found, (dt.date, dt.time)):  # datetime is a date
        return found.isoformat()
    if isinstance(found, list):
        return "[" + ", ".join(_show(item) for item in found[:20]) + _more(found) + "]"
    if isinstance(found, dict):
        items = list(found.items())
        shown = ", ".join(f"{key} = {_show(value)}" for key, value in items[:20])
        return "{" + shown + _more(items) + "}"
    if isinstance(found, int) and not isinstance(found, bool) and abs(found) > 10**30:
        return f"an integer of about {int(found.bit_length() * 0.30103) + 1} digits"
    return repr(found)


def _more(items: Sequence[object]) -> str:
    return f", … ({len(items)} in all)" if len(items) > 20 else ""
