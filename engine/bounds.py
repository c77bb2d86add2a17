"""Allowed ranges of the numbers a user types (flags, app settings, file headers): declared once beside the
setting they bound, checked wherever a value comes in, and worded the same everywhere."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bound:
    """low <= value <= high (low < value with low_open); whole numbers only with integer."""

    low: float
    high: float
    low_open: bool = False
    """The low end itself is excluded (a step size must be above 0)."""
    integer: bool = False

    def describe(self) -> str:
        """'from 16 to 2048', 'above 0 and at most 10'."""
        if self.low_open:
            return f"above {self.low:g} and at most {self.high:g}"
        return f"from {self.low:g} to {self.high:g}" if not self.integer else f"from {self.low} to {self.high}"

    def admits(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not isinstance(value, int):
            return False
        if not math.isfinite(value) or value > self.high:
            return False
        return value > self.low if self.low_open else value >= self.low

    def check(self, name: str, value: Any) -> Any:
        """The value, or ValueError (one line) naming the setting, the range and what was given."""
        values = value if isinstance(value, tuple) else (value,)
        if not all(self.admits(v) for v in values):
            kind = "whole number" if self.integer else "finite number"
            each = "each value of " if isinstance(value, tuple) else ""
            raise ValueError(f"{each}{name} must be a {kind} {self.describe()}, got {_shown(value)}")
        return value


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(_shown(v) for v in value) or "nothing"
    return f"{value:g}" if isinstance(value, float) else repr(value) if isinstance(value, str) else str(value)


def integer(low: int, high: int) -> Bound:
    return Bound(low, high, integer=True)


SEED = integer(0, 2**63 - 1)
"""What torch's and numpy's generators accept as a seed."""
FLOAT_DEFAULT = Bound(-1e6, 1e6)
"""A float setting that declares no bound of its own must still be finite and of a sane size."""
INT_DEFAULT = integer(-2**31, 2**31 - 1)
