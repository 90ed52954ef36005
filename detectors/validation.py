"""Argument checks that raise a ValueError naming the argument and its valid range."""

from __future__ import annotations

import math


def check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


def check_float(name: str, value: object, low: float, high: float, *, open_low: bool) -> None:
    """``value`` must be a real number in ``(low, high]`` (``open_low``) or ``[low, high]``."""
    bracket = "(" if open_low else "["
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    above_low = number > low if open_low else number >= low
    if not (above_low and number <= high):
        raise ValueError(f"{name} must be a number in {bracket}{low}, {high}], got {value!r}")
