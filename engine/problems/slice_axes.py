"""Energy-slice axes shared by problems whose x holds joint rotations as rotation vectors or plain numbers."""
from __future__ import annotations

import numpy as np
import torch

from ..rotations import exp_quaternion, log_quaternion, quaternion_conjugate, quaternion_multiply, \
    retract_rotation_vectors
from .spec import SliceAxis


def joint_rotation_axis(joint: str, first_column: int, component: int, span: float = 45.0) -> SliceAxis:
    """A joint's local rotation about its own x, y or z axis (degrees), composed on the rotation vector in
    x[:, first_column:first_column + 3] (a right increment, as the problems' retractions)."""
    columns = slice(first_column, first_column + 3)

    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        increment = torch.zeros(len(x), 3, dtype=x.dtype, device=x.device)
        increment[:, component] = torch.deg2rad(offsets.to(x))
        moved = x.clone()
        moved[:, columns] = retract_rotation_vectors(x[:, columns], increment)
        return moved

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        start = exp_quaternion(torch.as_tensor(center[columns])).expand(len(path), 4)
        end = exp_quaternion(torch.as_tensor(path[:, columns]))
        relative = quaternion_multiply(quaternion_conjugate(start), end)
        return torch.rad2deg(log_quaternion(relative))[:, component].numpy()

    axis = "xyz"[component]
    return SliceAxis(f"{joint}.r{axis}", f"{joint.replace('_', ' ')} about its {axis}", "deg", span, move, coordinate)


def coordinate_axis(key: str, label: str, column: int, unit: str, factor: float, span: float) -> SliceAxis:
    """One coordinate of x moved alone, in display units of `factor` x units each."""

    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        moved = x.clone()
        moved[:, column] = moved[:, column] + factor * offsets.to(x)
        return moved

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        return (path[:, column] - center[column]) / factor

    return SliceAxis(key, label, unit, span, move, coordinate)
