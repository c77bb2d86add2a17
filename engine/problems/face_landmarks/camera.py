"""face-landmarks' calibrated pinhole camera, in engine.camera's axis convention: at the origin, looking down -z,
+x right and +y up; pixel (u, v) with u to the right and v downwards from the image's top-left corner:

    u = cx + f X / (-Z),    v = cy - f Y / (-Z)

A point closer than MIN_DEPTH in front of the camera (or behind it) is projected as if at MIN_DEPTH, so an
estimate that strays behind the camera still has finite residuals."""
from __future__ import annotations

from typing import NamedTuple

import torch

MIN_DEPTH = 0.05
"""Metres: the least depth the projection divides by."""


class Intrinsics(NamedTuple):
    """Focal length and principal point in pixels, and the image's size."""

    focal: float
    cx: float
    cy: float
    width: int
    height: int

    def project(self, points: torch.Tensor) -> torch.Tensor:
        """(..., 2) pixels (u, v) of camera-space points (..., 3) in metres."""
        depth = (-points[..., 2]).clamp(min=MIN_DEPTH)
        return torch.stack([self.cx + self.focal * points[..., 0] / depth,
                            self.cy - self.focal * points[..., 1] / depth], dim=-1)

    def unproject(self, pixels: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """(..., 3) the camera-space points seen at pixels (..., 2) at these depths (...,) in metres."""
        return torch.stack([(pixels[..., 0] - self.cx) * depth / self.focal,
                            (self.cy - pixels[..., 1]) * depth / self.focal, -depth], dim=-1)
