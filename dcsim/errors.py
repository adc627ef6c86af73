"""The one exception family of dcsim.

Every error a user can cause is a :class:`DcsimError`. The CLI turns it into a
one-paragraph message and exit status 2; nothing else is caught there, so a bug
still shows its traceback.
"""

from __future__ import annotations


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
        shown = found if isinstance(found, str) and found.startswith("<") else repr(found)
        message = f"{where}: found {shown}; expected {expected}."
        if hint:
            message += f" {hint}"
        return cls(message)
