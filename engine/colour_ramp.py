"""Colour ramps of the pictures: values to RGB, linear between stops and clipped at both ends; and the error ramp
the pose and body pictures share, green (no error) -> yellow -> red (the last stop and beyond)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ERROR_RGB = ((46, 160, 67), (240, 190, 30), (214, 40, 40))
"""The error ramp's colours at its three stops (each picture chooses the stops, in its own unit)."""

RGB = tuple[int, int, int]


def ramp_colours(values: np.ndarray, stops: Sequence[float], rgb: Sequence[RGB]) -> np.ndarray:
    """(..., 3) uint8 colours of values (...): linear between the (increasing) stops' colours, clipped outside."""
    values = np.asarray(values, dtype=np.float64)
    ramp = np.asarray(rgb, dtype=np.float64)
    channels = [np.interp(values, stops, ramp[:, c]) for c in range(3)]
    return np.round(np.stack(channels, -1)).astype(np.uint8)


def ramp_legend(stops: Sequence[float], unit: str, rgb: Sequence[RGB] = ERROR_RGB) -> list[tuple[str, RGB]]:
    """Legend entries (label, RGB) of a ramp: one per stop, the last one '>= ' (the ramp is clipped there)."""
    labels = [f"{stop:g} {unit}".rstrip() for stop in stops]
    labels[-1] = ">= " + labels[-1]
    return list(zip(labels, (tuple(c) for c in rgb)))
