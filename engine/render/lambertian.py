"""An NMR-style differentiable renderer for light estimation: a fixed mesh, Lambertian shading differentiable
with respect to the light.

With the geometry fixed, which face each pixel shows (its visibility) is computed once (`visible_surface`), and
a render is per-pixel shading of that surface (`shade`): ambient plus diffuse light, flat face normals, no
shadows, no specular term. NMR itself shades a directional light only (Kato et al. 2018); `point` is the same
shading with a point light's direction and 1 / distance^2 fall-off, which NMR cannot do. The constants match
pyrender's shader (linear albedo, diffuse albedo / pi times radiance, output gamma 1 / 2.2), so the forward
process differs only by its shadows, its small Fresnel term and its anti-aliasing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..camera import Camera
from .pyrender_shaded import Lighting
from .raster_common import nearest_faces

DIFFUSE_SHARE = 0.96
"""pyrender's diffuse colour at metallic 0: albedo * (1 - 0.04)."""
GAMMA = 2.2
MIN_LINEAR = 1e-6
"""Linear values are clamped to at least this before the gamma curve, whose slope is infinite at 0."""


@dataclass(frozen=True)
class Surface:
    """What a fixed mesh shows at every pixel of a batch of images."""

    mask: torch.Tensor
    """(B, H, W) bool, pixels the mesh covers."""
    normal: torch.Tensor
    """(B, H, W, 3) camera-space unit face normal from the faces' winding (zero where uncovered)."""
    position: torch.Tensor
    """(B, H, W, 3) camera-space surface point (zero where uncovered)."""
    covered: torch.Tensor = field(init=False, repr=False)
    """(K,) flat indices of the covered pixels: shading touches only these."""
    covered_item: torch.Tensor = field(init=False, repr=False)
    """(K,) the batch item of each covered pixel."""

    def __post_init__(self) -> None:
        covered = self.mask.flatten().nonzero()[:, 0]
        # Derived, not passed: set once here (the dataclass is frozen).
        object.__setattr__(self, "covered", covered)
        object.__setattr__(self, "covered_item", covered // (self.mask.shape[1] * self.mask.shape[2]))

    def subset(self, index: torch.Tensor) -> "Surface":
        return Surface(self.mask[index], self.normal[index], self.position[index])


def visible_surface(vertices: torch.Tensor, faces: torch.Tensor, camera: Camera) -> Surface:
    """The surface that camera-space vertices (B, V, 3) with faces (B, F, 3) (degenerate padding allowed) show:
    the nearest face per pixel centre, its normal and the perspective-correct point on it."""
    if vertices.ndim != 3 or vertices.shape[-1] != 3 or faces.ndim != 3 or faces.shape[0] != vertices.shape[0]:
        raise ValueError(f"expected vertices (B, V, 3) and faces (B, F, 3), got {tuple(vertices.shape)}, "
                         f"{tuple(faces.shape)}")
    batch_size, height, width = vertices.shape[0], camera.height, camera.width
    vertices = vertices.detach()
    uv, depth = camera.project(vertices)
    offsets = (torch.arange(batch_size, device=vertices.device) * vertices.shape[1]).view(-1, 1, 1)
    corners = (faces.long() + offsets).reshape(-1, 3)
    batch = torch.arange(batch_size, device=vertices.device).repeat_interleave(faces.shape[1])
    points = vertices.reshape(-1, 3)[corners]
    normals = torch.linalg.cross(points[:, 1] - points[:, 0], points[:, 2] - points[:, 0])
    area = normals.norm(dim=1)
    in_front = (depth.reshape(-1)[corners] >= camera.near).all(dim=1)
    keep = (area > 1e-12) & in_front
    corners, batch, points, normals = corners[keep], batch[keep], points[keep], normals[keep] / area[keep, None]
    inverse_depth = 1.0 / depth.reshape(-1)[corners]
    pixel, face, weights = nearest_faces(uv.reshape(-1, 2)[corners], inverse_depth, batch, batch_size, height,
                                         width)
    perspective = weights * inverse_depth[face].T  # screen weights to weights on the face in 3-D
    perspective = perspective / perspective.sum(dim=0, keepdim=True)
    count = batch_size * height * width
    mask = torch.zeros(count, dtype=torch.bool, device=vertices.device)
    mask[pixel] = True
    normal = vertices.new_zeros(count, 3)
    normal[pixel] = normals[face]
    position = vertices.new_zeros(count, 3)
    position[pixel] = (perspective.T[:, :, None] * points[face]).sum(dim=1)
    shape = (batch_size, height, width)
    return Surface(mask.view(shape), normal.view(*shape, 3), position.view(*shape, 3))


def shade(surface: Surface, light: torch.Tensor, target: torch.Tensor, lighting: Lighting) -> torch.Tensor:
    """(B, H, W, 3) image in [0, 1] of the surface lit by lights at camera-space positions (B, 3): a directional
    light shines from its position towards `target` (B, 3), a point light from its position in all directions;
    differentiable with respect to `light`. Black where the surface is absent, as pyrender's background."""
    if light.ndim != 2 or light.shape[1] != 3 or light.shape[0] != surface.mask.shape[0]:
        raise ValueError(f"lights must have shape ({surface.mask.shape[0]}, 3), got {tuple(light.shape)}")
    normal = surface.normal.reshape(-1, 3)[surface.covered]
    if lighting.kind == "directional":
        towards = torch.nn.functional.normalize(light - target, dim=1, eps=1e-9)[surface.covered_item]
        radiance = light.new_tensor(lighting.intensity)
    else:
        offset = light[surface.covered_item] - surface.position.reshape(-1, 3)[surface.covered]
        distance_squared = offset.square().sum(dim=-1).clamp(min=1e-9)
        towards = offset / distance_squared.sqrt()[:, None]
        radiance = lighting.intensity / distance_squared
    cosine = (normal * towards).sum(dim=-1).clamp(min=0.0)
    linear = lighting.albedo * (lighting.ambient + DIFFUSE_SHARE / math.pi * radiance * cosine)
    value = (linear.clamp(min=MIN_LINEAR) ** (1.0 / GAMMA)).clamp(max=1.0)
    image = light.new_zeros(surface.mask.numel()).index_put((surface.covered,), value)
    return image.view(surface.mask.shape)[..., None].expand(*surface.mask.shape, 3)
