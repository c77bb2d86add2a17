"""tracker-fusion's energy-slice axes: one coordinate of the box at a time, pixels (the first two, x1 and y1,
slice the top-left corner's energy as the heat map shows it)."""
from __future__ import annotations

import numpy as np
import torch

from ..spec import SliceAxis
from .problem import PARAMETER_NAMES

LABELS = ("top-left x", "top-left y", "bottom-right x", "bottom-right y")


def _axis(column: int) -> SliceAxis:
    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        moved = x.clone()
        moved[:, column] = moved[:, column] + offsets
        return moved

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        return path[:, column] - center[column]

    return SliceAxis(PARAMETER_NAMES[column], LABELS[column], "px", 30.0, move, coordinate)


SLICE_AXES = tuple(_axis(column) for column in range(4))
