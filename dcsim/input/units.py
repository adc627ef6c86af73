"""Units at the edge: parse quantity strings once, hand the model plain floats.

Quantities are written as ``"<number> <unit>"`` ("300 MW", "18 months",
"1.67 kW", "5000 GPU/week"). The number and the unit are matched by regular
expressions first, so nothing a user writes is ever evaluated as an expression:
``"9**9**9 MW"`` or ``"__import__('os')"`` are refused before pint sees them.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


def _import_pint() -> None:
    """Import pint with SciPy and Dask out of its sight.

    pint imports both when they are installed (Dask comes with the ``dask`` extra),
    for features dcsim never uses (SciPy-backed functions, Dask arrays of
    quantities): ~90 ms of every command's start-up (``import pint`` alone, 230 ->
    140 ms here), before any work can go to the workers. An entry of None in
    ``sys.modules`` makes an import fail and ``find_spec`` find nothing; the entries are
    taken out again at once, so that ``--scheduler`` and the user's own code import them
    as usual.
    """
    hidden = [name for name in ("dask", "scipy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import pint  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_import_pint()
import pint  # noqa: E402


# One registry for the package (pint's own advice).
def _registry() -> pint.UnitRegistry[Any]:
    """pint's registry, from its on-disk cache when it can write one (ten times faster)."""
    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except (OSError, ValueError, RuntimeError):
        return pint.UnitRegistry(cache_folder=None)


UREG: pint.UnitRegistry[Any] = _registry()
UREG.define("USD = [currency] = usd = dollar")
UREG.define("GPU = [gpu] = gpu = GPUs = gpus")
UREG.define("request = [request] = requests")
UREG.define("unit = [unit_count] = units")


@dataclass(frozen=True)
class Dimension:
    """A kind of quantity the model accepts, and the canonical unit it is stored in."""

    name: str
    canonical: str
    example: str

    @property
    def a(self) -> str:
        """The name with its article: 'a power', 'an apparent power'."""
        return ("an " if self.name[0] in "aeiou" else "a ") + self.name

    @property
    def units(self) -> pint.Unit:
        return UREG.Unit(self.canonical)


DURATION = Dimension("duration", "day", "'18 months' or '128 weeks'")
POWER = Dimension("power", "MW", "'300 MW'")
APPARENT_POWER = Dimension("apparent power", "MVA", "'150 MVA'")
GPU_POWER = Dimension("power per GPU", "kW", "'1.67 kW'")
RACK_POWER = Dimension("power per rack", "kW", "'120 kW'")
MONEY = Dimension("money", "USD", "'30000 USD'")
GPU_RATE = Dimension("rate of GPUs per time", "GPU / day", "'5000 GPU/week'")
REQUEST_RATE = Dimension("rate of requests per time", "request / day", "'12 requests/year'")
GPU_HOUR_VALUE = Dimension("value per GPU-hour", "USD / GPU / hour", "'2.5 USD/GPU/hour'")
UNIT_RATE = Dimension("rate of units per time", "unit / day", "'600 units/year'")
ENERGY_PRICE = Dimension("price of energy", "USD / MWh", "'175 USD/MWh'")
POWER_RAMP = Dimension("rate of power per time", "MW / day", "'50 MW/month'")

# Digits may be grouped by "_" or by "," in threes ("1,000"); one decimal point at most.
# "1,5" is refused rather than read as 15 (or as the European 1.5).
# Only ASCII digits: "１２ MW" (fullwidth) or Arabic-Indic digits are refused, not read.
_NUMBER = (
    r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+(?:_[0-9]+)*)(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:[eE][+-]?[0-9]{1,3})?"
)
_UNIT_WORD = r"[A-Za-zµ_]+(?:\^[+-]?[0-9]{1,2})?"
_UNIT = rf"{_UNIT_WORD}(?:\s*[/*·]\s*{_UNIT_WORD}|\s+{_UNIT_WORD})*"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*({_UNIT})\s*$")
_WORD = re.compile(r"[A-Za-zµ_]+")
_MAX_MAGNITUDE = 1e15
MAX_QUANTITY_CHARS = 64  # "1.5 GPU/week" needs a dozen; a longer one is not a quantity
MAX_UNIT_WORDS = 6  # "kW h / month" at most; pint recurses once per word


class QuantityError(ValueError):
    """Raised by :func:`parse_quantity`; the loader adds the file and key."""


@lru_cache(maxsize=4096)
def _unit(text: str) -> pint.Unit:
    return UREG.parse_units(text.replace("·", "*").replace("^", "**"))


def parse_quantity(text: object, dim: Dimension) -> float:
    """Return the magnitude of ``text`` in ``dim``'s canonical unit, as a float.

    Raises QuantityError with a sentence that says what was expected.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise QuantityError(f"{dim.a} written as a string with a unit, like {dim.example}")
    if len(text) > MAX_QUANTITY_CHARS:
        raise QuantityError(
            f"{dim.a} of at most {MAX_QUANTITY_CHARS} characters, like {dim.example}"
        )
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(
            f"{dim.a} written as '<number> <unit>', like {dim.example}"
            " (numbers and unit names only, no expressions)"
        )
    number_text, unit_text = match.groups()
    words = _WORD.findall(unit_text)
    if len(words) > MAX_UNIT_WORDS:
        raise QuantityError(f"{dim.a} whose unit has at most {MAX_UNIT_WORDS} words")
    magnitude = float(number_text.replace("_", "").replace(",", ""))
    too_big = f"a finite {dim.name} of reasonable size, like {dim.example}"
    if not math.isfinite(magnitude) or abs(magnitude) > _MAX_MAGNITUDE:
        raise QuantityError(too_big)
    try:
        unit = _unit(unit_text.strip())
        scalars = [word for word in words if _unit(word).dimensionless]
    except (
        pint.errors.PintError,
        ValueError,
        AttributeError,
        TypeError,
        SyntaxError,
        KeyError,
    ) as exc:  # pint raises KeyError for a lone unit to the power 0 ("m^0")
        raise QuantityError(
            f"{dim.a} with a known unit, like {dim.example} ('{unit_text}' is not a unit)"
        ) from exc
    # "1 pi MW" or "1 percent MW" would scale the number by a word: a number, not a unit.
    if scalars:
        raise QuantityError(
            f"{dim.a}, like {dim.example} ('{scalars[0]}' is a number, not a unit;"
            " write the number itself)"
        )
    target = dim.units
    if _apparent(unit) != _apparent(target) and unit.dimensionality == target.dimensionality:
        raise QuantityError(_mva_is_not_mw(dim, unit_text, _apparent(target)))
    if unit == target:
        # Same unit: no conversion, so values written back by --dump round-trip exactly.
        return magnitude
    if unit.dimensionality != target.dimensionality:
        raise QuantityError(
            f"{dim.a}, like {dim.example} ('{unit_text}' is {_describe(unit)}, not {dim.a})"
        )
    try:
        converted = float(UREG.Quantity(magnitude, unit).to(target).magnitude)
    except (OverflowError, ZeroDivisionError):
        raise QuantityError(too_big) from None
    # Prefixes and powers ("Ys^50/s^49") can blow a modest number up past any sense.
    if not math.isfinite(converted) or abs(converted) > _MAX_MAGNITUDE:
        raise QuantityError(too_big)
    return converted


def _apparent(unit: pint.Unit) -> bool:
    """Volt-amperes (MVA, kVA): apparent power, which pint counts as watts."""
    return any(name.endswith("volt_ampere") for name in unit._units)


def _mva_is_not_mw(dim: Dimension, unit_text: str, want_apparent: bool) -> str:
    if want_apparent:
        return (
            f"{dim.a}, like {dim.example} ('{unit_text}' is real power: a transformer is"
            " rated in MVA or kVA, and carries rating x power factor in MW)"
        )
    return (
        f"{dim.a}, like {dim.example} ('{unit_text}' is apparent power: write real power,"
        " in W, kW or MW; a transformer's MVA times its power factor gives MW)"
    )


def _describe(unit: pint.Unit) -> str:
    dims = unit.dimensionality
    for known in (DURATION, POWER, GPU_POWER, MONEY, GPU_RATE, REQUEST_RATE, UNIT_RATE,
                  ENERGY_PRICE):  # fmt: skip
        if known.units.dimensionality == dims:
            return known.a
    return "a quantity of another kind"


def format_quantity(value: float, dim: Dimension) -> str:
    """Write a canonical float back as a string that parse_quantity reads exactly."""
    return f"{value!r} {dim.canonical.replace(' ', '')}"
