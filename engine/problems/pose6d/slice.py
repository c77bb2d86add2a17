"""pose6d's energy-slice axes: rotations about the camera's axes (rx, ry, rz, degrees, applied on top of the
estimate's rotation) and translation offsets (tx, ty, tz, metres), so that both axes of the picture mean
something physical."""
from __future__ import annotations

import numpy as np
import torch

from ...rotations import (
    quaternion_conjugate,
    quaternion_from_rotation_vector,
    quaternion_multiply,
    quaternion_to_rotation_vector,
)
from ..spec import SliceAxis


def _rotate(index: int):
    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        rotation = torch.zeros(len(x), 3, dtype=x.dtype, device=x.device)
        rotation[:, index] = torch.deg2rad(offsets)
        quaternion = quaternion_multiply(quaternion_from_rotation_vector(rotation), x[:, :4])
        return torch.cat([quaternion, x[:, 4:]], dim=1)

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        path_t, center_t = torch.as_tensor(path[:, :4]), torch.as_tensor(center[:4])
        relative = quaternion_multiply(path_t, quaternion_conjugate(center_t).expand(len(path_t), 4))
        return torch.rad2deg(quaternion_to_rotation_vector(relative))[:, index].numpy()

    return move, coordinate


def _translate(index: int):
    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        x[:, 4 + index] += offsets
        return x

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        return path[:, 4 + index] - center[4 + index]

    return move, coordinate


SLICE_AXES = tuple(
    SliceAxis(f"r{axis}", f"rotation about camera {axis}", "deg", 40.0, *_rotate(index))
    for index, axis in enumerate("xyz")
) + tuple(
    SliceAxis(f"t{axis}", f"offset along {axis}", "m", span, *_translate(index))
    for (index, axis), span in zip(enumerate("xyz"), (0.25, 0.25, 0.5))
)
