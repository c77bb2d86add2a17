"""A small flat-shaded mesh picture in torch, without OpenGL: for views drawn in the app's own process (where
pyrender's context would compete with the window's), e.g. ik's body posed by an estimate.

Orthographic along -z (x right, y up), the nearest face per pixel, Lambertian shading from a light over the
viewer's shoulder. It reuses the rasterizers' (face, pixel) enumeration, so the cost follows covered pixels.
"""
from __future__ import annotations

import torch

from .raster_common import nearest_faces

LIGHT = (0.35, 0.45, 0.82)
"""Direction towards the light, camera space (normalised below)."""


def shade_mesh(vertices: torch.Tensor, faces: torch.Tensor, size: tuple[int, int], center: tuple[float, float],
               extent: float, colour: tuple[int, int, int], background: tuple[int, int, int]) -> torch.Tensor:
    """(H, W, 3) uint8 picture of a mesh (vertices (V, 3), faces (F, 3)) seen along -z; `extent` metres of the
    scene span the picture's height, centred on `center` (x, y)."""
    width, height = size
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"expected vertices (V, 3) and faces (F, 3), got {tuple(vertices.shape)}, "
                         f"{tuple(faces.shape)}")
    vertices = vertices.detach().float()
    scale = height / extent
    uv = torch.stack([(vertices[:, 0] - center[0]) * scale + width / 2,
                      (center[1] - vertices[:, 1]) * scale + height / 2], dim=1)
    faces = faces.long()
    tri = uv[faces]
    corners = vertices[faces]
    normals = torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = torch.nn.functional.normalize(normals, dim=1)
    light = torch.nn.functional.normalize(torch.tensor(LIGHT), dim=0)
    brightness = 0.25 + 0.75 * (normals @ light).abs()  # two-sided: the mesh's winding does not matter
    pixel, face, _ = nearest_faces(tri, corners[:, :, 2], torch.zeros(len(faces), dtype=torch.int64), 1, height, width)
    shade = torch.zeros(width * height)
    shade[pixel] = brightness[face]
    covered = torch.zeros(width * height, dtype=torch.bool)
    covered[pixel] = True
    picture = torch.tensor(background, dtype=torch.float32).repeat(width * height, 1)
    picture[covered] = shade[covered, None] * torch.tensor(colour, dtype=torch.float32)
    return picture.round().clamp(0, 255).to(torch.uint8).reshape(height, width, 3)
