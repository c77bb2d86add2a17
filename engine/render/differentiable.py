"""The torch silhouette rasterizers by name, on the shared camera model."""
from __future__ import annotations

import torch

from ..camera import Camera
from .nmr import rasterize_silhouette_nmr
from .softras import rasterize_silhouette_softras

RASTERIZERS = {"nmr": rasterize_silhouette_nmr, "softras": rasterize_silhouette_softras}


def rasterize_silhouette(
    name: str, uv: torch.Tensor, depth: torch.Tensor, faces: torch.Tensor, camera: Camera, **options: float
) -> torch.Tensor:
    """Silhouettes (B, H, W) of screen-space meshes with the named rasterizer ('nmr' or 'softras')."""
    if name not in RASTERIZERS:
        raise ValueError(f"unknown rasterizer {name!r}; choose one of {', '.join(RASTERIZERS)}")
    return RASTERIZERS[name](uv, depth, faces, camera.height, camera.width, near=camera.near, **options)
