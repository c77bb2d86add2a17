"""The illumination problem's energy-slice axes: the light moved around the object, in azimuth (about the
camera's vertical axis) and elevation (about its horizontal axis), degrees, and along its distance from the
object's centre, metres: both axes of the picture mean a physical move of the lamp."""
from __future__ import annotations

import numpy as np
import torch

from ..spec import SliceAxis


def _spherical(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Azimuth (about y, from +z towards +x) and elevation (towards +y) in radians, and distance, of (N, 3)."""
    distance = x.norm(dim=1)
    azimuth = torch.atan2(x[:, 0], x[:, 2])
    elevation = torch.atan2(x[:, 1], torch.hypot(x[:, 0], x[:, 2]))
    return azimuth, elevation, distance


def _cartesian(azimuth: torch.Tensor, elevation: torch.Tensor, distance: torch.Tensor) -> torch.Tensor:
    flat = distance * torch.cos(elevation)
    return torch.stack([flat * torch.sin(azimuth), distance * torch.sin(elevation), flat * torch.cos(azimuth)], 1)


def _turn(column: int):
    """Azimuth (column 0) or elevation (column 1) changed by the offsets, in degrees."""

    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        angles = list(_spherical(x))
        angles[column] = angles[column] + torch.deg2rad(offsets).to(x)
        return _cartesian(*angles)

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        along = torch.rad2deg(_spherical(torch.as_tensor(path))[column])
        start = torch.rad2deg(_spherical(torch.as_tensor(center)[None])[column])
        return (along - start).numpy()

    return move, coordinate


def _farther(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    distance = x.norm(dim=1, keepdim=True).clamp(min=1e-9)
    return x * (distance + offsets[:, None].to(x)) / distance


def _distance_coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
    return np.linalg.norm(path, axis=1) - np.linalg.norm(center)


SLICE_AXES = (
    SliceAxis("azimuth", "light azimuth", "deg", 60.0, *_turn(0)),
    SliceAxis("elevation", "light elevation", "deg", 60.0, *_turn(1)),
    SliceAxis("distance", "light distance", "m", 0.4, _farther, _distance_coordinate),
)
