"""The one pinhole camera model every renderer uses.

Axis convention (OpenGL): the camera sits at the origin of camera space and looks down -z, +x is right and
+y is up. Image space: pixel (0, 0) is the top-left pixel, u grows to the right and v grows downwards, and the
centre of pixel (i, j) lies at (u, v) = (j + 0.5, i + 0.5). NDC: x, y in [-1, 1], +y up. Square pixels; the
vertical field of view and the image height set the focal length.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Camera:
    """Pinhole camera. Angles in radians, distances in metres."""

    height: int = 128
    """Image height in pixels."""
    width: int = 128
    """Image width in pixels."""
    fov_y: float = math.radians(60.0)
    """Vertical field of view (NMR's default: 30 degree half-angle)."""
    near: float = 0.1
    """Near clipping distance; geometry closer than this is not drawn."""
    far: float = 100.0
    """Far clipping distance."""

    def __post_init__(self) -> None:
        if self.height < 1 or self.width < 1:
            raise ValueError(f"camera image size must be positive, got {self.height}x{self.width}")
        if not 0.0 < self.fov_y < math.pi:
            raise ValueError(f"camera fov_y must be in (0, pi) radians, got {self.fov_y}")
        if not 0.0 < self.near < self.far:
            raise ValueError(f"camera needs 0 < near < far, got near={self.near} far={self.far}")

    @classmethod
    def square(cls, size: int, **kwargs) -> "Camera":
        return cls(height=size, width=size, **kwargs)

    @property
    def focal(self) -> float:
        """Focal length in pixels."""
        return 0.5 * self.height / math.tan(0.5 * self.fov_y)

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Camera-space points (..., 3) to pixel coordinates (..., 2) as (u, v) and view depth (...,) = -z."""
        if points.shape[-1] != 3:
            raise ValueError(f"Camera.project expects points of shape (..., 3), got {tuple(points.shape)}")
        depth = -points[..., 2]
        safe_depth = depth.clamp(min=1e-6)
        u = 0.5 * self.width + self.focal * points[..., 0] / safe_depth
        v = 0.5 * self.height - self.focal * points[..., 1] / safe_depth
        return torch.stack([u, v], dim=-1), depth

    def pixels_to_ndc(self, uv: torch.Tensor) -> torch.Tensor:
        """Pixel coordinates (..., 2) to NDC (..., 2), +y up."""
        x = 2.0 * uv[..., 0] / self.width - 1.0
        y = 1.0 - 2.0 * uv[..., 1] / self.height
        return torch.stack([x, y], dim=-1)
