"""Strict reading of one TOML table: every key known, every value checked.

A :class:`Table` wraps one dict of a parsed document together with the file it
came from and its dotted key path, so that every error names both. Keys that
are never asked for are reported by :meth:`Table.done` with the nearest valid
key suggested: a typo never silently becomes a default.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterator
from typing import Any

from dcsim.errors import SpecError
from dcsim.input.distributions import (
    KINDS,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    Triangular,
    Uniform,
)
from dcsim.input.limits import EARLIEST, EMPIRICAL_VALUES, ENTRIES, LATEST, Limit
from dcsim.input.units import Dimension, QuantityError, parse_quantity

_MISSING = object()


def suggest(key: str, valid: list[str] | tuple[str, ...], listing: bool = True) -> str:
    """'Did you mean ...?' for the nearest valid key, else (with ``listing``) all of them.

    Pass ``listing=False`` when the message lists the valid values already.
    """
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    if close:
        return f"Did you mean '{close[0]}'?"
    if not listing or not valid:
        return ""
    return "Valid keys: " + ", ".join(sorted(valid)) + "."


class Table:
    """One table of a document, read key by key."""

    def __init__(self, data: object, path: str, source: Callable[[str], str]) -> None:
        self.path = path
        self._source = source
        if not isinstance(data, dict):
            raise self.error("", data, "a table (key = value pairs)")
        self.data: dict[str, Any] = data
        self._seen: set[str] = set()

    # -- addressing ------------------------------------------------------
    def key_path(self, key: str) -> str:
        if not key:
            return self.path
        if key.startswith("["):
            return f"{self.path}{key}"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, found: object, expected: str, hint: str = "") -> SpecError:
        path = self.key_path(key)
        return SpecError.at(self._source(path), path, found, expected, hint)

    def sub(self, key: str, data: object) -> Table:
        return Table(data, self.key_path(key), self._source)

    # -- presence --------------------------------------------------------
    def has(self, key: str) -> bool:
        # Asking about a key makes it a valid key of this table (for done()'s suggestions).
        self._seen.add(key)
        return key in self.data

    def raw(self, key: str, default: object = _MISSING) -> Any:
        self._seen.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(
                key,
                "<nothing: the key is missing>",
                "this required key to be set",
                self._misspelling(key),
            )
        return default

    def _misspelling(self, key: str) -> str:
        """A hint naming an unread key of this table that looks like a typo of ``key``."""
        unread = [k for k in self.data if k not in self._seen]
        close = difflib.get_close_matches(key, unread, n=1, cutoff=0.75)
        return f"Is '{close[0]}' a misspelling of it?" if close else ""

    def done(self) -> None:
        """Refuse every key that was never read."""
        for key in self.data:
            if key not in self._seen:
                valid = sorted(self._seen)
                raise self.error(
                    key, "<an unknown key>", "one of the keys this table takes", suggest(key, valid)
                )

    # -- typed values ----------------------------------------------------
    def string(
        self, key: str, default: object = _MISSING, choices: tuple[str, ...] | None = None
    ) -> str:
        value = self.raw(key, default)
        if value is default and isinstance(value, str) and key not in self.data:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, value, "a non-empty string")
        if choices is not None and value not in choices:
            raise self.error(
                key,
                value,
                "one of " + ", ".join(repr(c) for c in choices),
                suggest(value, choices, listing=False),
            )
        return value

    def reference(
        self, key: str, known: dict[str, Any] | list[str], what: str, default: object = _MISSING
    ) -> str:
        value = self.string(key, default)
        if value not in known:
            names = sorted(known)
            raise self.error(
                key,
                value,
                f"the name of a {what} that exists ({', '.join(names) or 'none defined'})",
                suggest(value, names, listing=False),
            )
        return value

    def boolean(self, key: str, default: object = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, value, "true or false (without quotes)")
        return value

    def integer(self, key: str, limit: Limit, default: object = _MISSING, minimum: int = 0) -> int:
        """A whole number from ``minimum`` to ``limit.most``."""
        value = self.raw(key, default)
        expected = f"a whole number from {minimum} to {limit.most:,}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, value, expected, _unquote_hint(value))
        if not minimum <= value <= limit.most:
            raise self.error(key, value, expected, f"(The limit is on {limit.what}.)")
        return value

    def number(
        self,
        key: str,
        default: object = _MISSING,
        low: float = 0.0,
        high: float = float("inf"),
        low_open: bool = False,
    ) -> float:
        raw = self.raw(key, default)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise self.error(key, raw, f"a plain number {_range(low, high, low_open)}",
                             _unquote_hint(raw))  # fmt: skip
        value = float(raw)
        if not (value > low if low_open else value >= low) or value > high or value != value:
            raise self.error(key, raw, f"a number {_range(low, high, low_open)}")
        return value

    def quantity(
        self, key: str, dim: Dimension, default: object = _MISSING, positive: bool = True
    ) -> float:
        value = self.raw(key, default)
        return self._quantity(key, value, dim, positive)

    def _quantity(self, key: str, value: object, dim: Dimension, positive: bool) -> float:
        try:
            magnitude = parse_quantity(value, dim)
        except QuantityError as exc:
            raise self.error(key, value, str(exc)) from None
        if positive and magnitude <= 0:
            raise self.error(key, value, f"{dim.a} greater than zero")
        if not positive and magnitude < 0:
            raise self.error(key, value, f"{dim.a} of zero or more")
        return magnitude

    def date(
        self,
        key: str,
        start: dt.date | None,
        horizon_days: float | None,
        default: object = _MISSING,
    ) -> float:
        """A calendar date, returned as days from ``start``, checked against the horizon."""
        value = self.raw(key, default)
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                raise self.error(
                    key,
                    value,
                    "a date or local date-time without a time zone"
                    " offset (dcsim has no time zones)",
                )
            when = value
        elif isinstance(value, dt.date):
            when = dt.datetime.combine(value, dt.time())
        else:
            raise self.error(key, value, "a date written as YYYY-MM-DD without quotes")
        if not EARLIEST <= when.date() <= LATEST:
            raise self.error(key, value, f"a date from {EARLIEST} to {LATEST}")
        if start is None:
            return 0.0
        days = (when - dt.datetime.combine(start, dt.time())).total_seconds() / 86400.0
        if days < 0:
            raise self.error(key, value, f"a date on or after the scenario start {start}")
        if horizon_days is not None and days > horizon_days:
            end = start + dt.timedelta(days=horizon_days)
            raise self.error(
                key,
                value,
                f"a date within the horizon (on or before {end})",
                "Lengthen the scenario's horizon or move the date.",
            )
        return days

    def distribution(
        self, key: str, dim: Dimension, default: object = _MISSING, positive: bool = True
    ) -> Distribution:
        value = self.raw(key, default)
        if isinstance(value, str):
            return Fixed(self._quantity(key, value, dim, positive))
        table = self.sub(key, value) if isinstance(value, dict) else None
        if table is None:
            raise self.error(
                key,
                value,
                f"{dim.a} like {dim.example}, or a distribution"
                ' table like { dist = "uniform", low = ..., high = ... }',
            )
        return table._distribution_body(dim, positive)

    def _distribution_body(self, dim: Dimension, positive: bool) -> Distribution:
        kind = self.string("dist", choices=tuple(KINDS))
        q = self._dist_quantity
        result: Distribution
        if kind == "fixed":
            result = Fixed(q("value", dim, positive))
        elif kind == "uniform":
            low, high = q("low", dim, False), q("high", dim, positive)
            if low > high:
                raise self.error(
                    "low", self.data["low"], f"low no greater than high ({self.data['high']!r})"
                )
            result = Uniform(low, high)
        elif kind == "triangular":
            low, mode, high = q("low", dim, False), q("mode", dim, False), q("high", dim, positive)
            if not low <= mode <= high:
                raise self.error(
                    "mode",
                    self.data["mode"],
                    f"low <= mode <= high (low {self.data['low']!r}, high {self.data['high']!r})",
                )
            result = Triangular(low, mode, high)
        elif kind == "lognormal":
            result = LogNormal(q("median", dim, True), self.number("sigma", high=5.0))
        elif kind == "exponential":
            result = Exponential(q("mean", dim, True))
        else:
            values = self.raw("values")
            if not isinstance(values, list) or not values:
                raise self.error("values", values, f"a non-empty list of {dim.name}s")
            if len(values) > EMPIRICAL_VALUES.most:
                raise self.error("values", values, f"at most {EMPIRICAL_VALUES.most:,} values")
            result = Empirical(
                tuple(self._quantity(f"values[{i}]", v, dim, False) for i, v in enumerate(values))
            )
            if positive and max(result.values) <= 0:
                raise self.error("values", values, f"at least one {dim.name} greater than zero")
        self.done()
        return result

    def _dist_quantity(self, key: str, dim: Dimension, positive: bool) -> float:
        return self._quantity(key, self.raw(key), dim, positive)

    def tables(
        self, key: str, default: object = _MISSING, limit: Limit = ENTRIES
    ) -> Iterator[Table]:
        """Each table of an array of tables, addressed as key[i]."""
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise self.error(key, value, "an array of tables ([[" + key + "]])")
        if len(value) > limit.most:
            raise self.error(key, f"<{len(value):,} entries>", f"at most {limit.most:,} entries")
        for index, item in enumerate(value):
            yield self.sub(f"{key}[{index}]", item)

    def named_tables(
        self, key: str, default: object = _MISSING, limit: Limit = ENTRIES
    ) -> Iterator[tuple[str, Table]]:
        """Each sub-table of a table keyed by name, addressed as key.name."""
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise self.error(key, value, "a table of named tables")
        if len(value) > limit.most:
            raise self.error(key, f"<{len(value):,} entries>", f"at most {limit.most:,} entries")
        for name, item in value.items():
            yield name, self.sub(f"{key}.{name}", item)


def _range(low: float, high: float, low_open: bool) -> str:
    lo = f"greater than {low:g}" if low_open else f"at least {low:g}"
    if high == float("inf"):
        return lo
    return f"{lo} and at most {high:g}"


def _unquote_hint(value: object) -> str:
    """For a number written in quotes ("4"): say to drop them; otherwise nothing."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return f"(Write it without quotes: {value.strip()}.)"
    return ""
