"""What both torch rasterizers share: input checks, flattening a batch of meshes into one face list, and
enumerating the (face, pixel) pairs a face can reach, so that cost follows the pixels each face covers
instead of pixels x faces.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class FlatFaces:
    """All faces of a batch in one list. Corners index the flattened (B*V) vertex array."""

    corners: torch.Tensor
    """(N, 3) int64 vertex indices into the flattened (B*V, 2) screen vertices."""
    batch: torch.Tensor
    """(N,) int64 batch item of each face."""


def check_screen_inputs(
    uv: torch.Tensor, depth: torch.Tensor, faces: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """Validates rasterizer inputs; returns faces as (B, F, 3) int64 on uv's device."""
    if uv.ndim != 3 or uv.shape[-1] != 2:
        raise ValueError(f"screen vertices must have shape (B, V, 2), got {tuple(uv.shape)}")
    if depth.shape != uv.shape[:2]:
        raise ValueError(f"vertex depths must have shape {tuple(uv.shape[:2])}, got {tuple(depth.shape)}")
    if faces.ndim == 2:
        faces = faces.unsqueeze(0).expand(uv.shape[0], -1, -1)
    if faces.ndim != 3 or faces.shape[-1] != 3 or faces.shape[0] != uv.shape[0]:
        raise ValueError(f"faces must have shape (F, 3) or (B, F, 3) with B={uv.shape[0]}, got {tuple(faces.shape)}")
    if faces.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"faces must be an integer tensor, got {faces.dtype}")
    if faces.numel() and (faces.min() < 0 or faces.max() >= uv.shape[1]):
        raise ValueError(f"face indices must lie in [0, {uv.shape[1]}), got [{int(faces.min())}, {int(faces.max())}]")
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    return faces.to(device=uv.device, dtype=torch.int64)


def flatten_visible_faces(
    uv: torch.Tensor, depth: torch.Tensor, faces: torch.Tensor, near: float, min_area: float = 1e-10
) -> FlatFaces:
    """Flattens (B, F, 3) faces, dropping degenerate ones (zero screen area, e.g. batch padding) and any face
    with a corner closer than the near plane (no clipping: such faces are not drawn)."""
    batch_size, num_vertices = uv.shape[:2]
    offsets = (torch.arange(batch_size, device=uv.device) * num_vertices).view(-1, 1, 1)
    corners = (faces + offsets).reshape(-1, 3)
    batch = torch.arange(batch_size, device=uv.device).repeat_interleave(faces.shape[1])
    flat_uv = uv.detach().reshape(-1, 2)
    a, b, c = flat_uv[corners[:, 0]], flat_uv[corners[:, 1]], flat_uv[corners[:, 2]]
    doubled_area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    in_front = (depth.detach().reshape(-1)[corners] >= near).all(dim=1)
    keep = (doubled_area.abs() > min_area) & in_front & torch.isfinite(doubled_area)
    return FlatFaces(corners=corners[keep], batch=batch[keep])


def face_pixel_pairs(
    tri: torch.Tensor, height: int, width: int, margin: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every (face, pixel) pair whose pixel centre lies in the face's screen bounding box grown by margin pixels.

    tri: (N, 3, 2) screen corners (detached). Returns face index, pixel column and pixel row, each (K,) int64.
    """
    corners = tri.double()
    lo = corners.amin(dim=1) - margin - 0.5
    hi = corners.amax(dim=1) + margin - 0.5
    first = torch.stack([torch.ceil(lo[:, 0]).clamp(0, width), torch.ceil(lo[:, 1]).clamp(0, height)], dim=1)
    last = torch.stack([torch.floor(hi[:, 0]).clamp(-1, width - 1), torch.floor(hi[:, 1]).clamp(-1, height - 1)], 1)
    extent = (last - first + 1).clamp(min=0)
    counts = (extent[:, 0] * extent[:, 1]).long()
    face = torch.repeat_interleave(torch.arange(tri.shape[0], device=tri.device), counts)
    # Per pair: its face's first pixel, column count and first pair index; the pair's offset within its face is
    # split into row and column in float64 arithmetic (exact here, and far cheaper than integer division on a CPU).
    per_face = torch.cat([first, extent[:, :1], (torch.cumsum(counts, 0) - counts).double()[:, None]], dim=1)
    per_pair = per_face.index_select(0, face)
    local = torch.arange(face.shape[0], device=tri.device, dtype=torch.float64) - per_pair[:, 3]
    row_offset = torch.floor((local + 0.5) / per_pair[:, 2])
    cols = (per_pair[:, 0] + local - row_offset * per_pair[:, 2]).long()
    rows = (per_pair[:, 1] + row_offset).long()
    return face, cols, rows


def face_rows(tri: torch.Tensor, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (face, row) pair whose row centre lies within the face's vertical extent: face index and row, (K,)."""
    row0 = torch.ceil(tri[:, :, 1].amin(dim=1) - 0.5).clamp(min=0, max=height).long()
    row1 = torch.floor(tri[:, :, 1].amax(dim=1) - 0.5).clamp(min=-1, max=height - 1).long()
    counts = (row1 - row0 + 1).clamp(min=0)
    face = torch.repeat_interleave(torch.arange(tri.shape[0], device=tri.device), counts)
    start = torch.cumsum(counts, 0) - counts
    return face, row0[face] + torch.arange(face.shape[0], device=tri.device) - start[face]


def barycentric_weights(tri: torch.Tensor, face: torch.Tensor, point: torch.Tensor) -> torch.Tensor:
    """(3, K) screen-space barycentric weights of point (K, 2) in face[k] of tri (N, 3, 2); all >= 0 inside.

    Laid out (corner, pair): on a CPU, row-wise operations on that layout are several times faster than on
    (K, 3), whose short rows defeat vectorisation."""
    edge = tri.roll(-1, dims=1) - tri
    doubled_area = edge[:, 0, 0] * edge[:, 1, 1] - edge[:, 0, 1] * edge[:, 1, 0]
    per_face = torch.cat([tri[..., 0], tri[..., 1], edge[..., 0], edge[..., 1],
                          (1.0 / doubled_area)[:, None].expand(-1, 3)], dim=1)
    corner_x, corner_y, edge_x, edge_y, inverse_area = per_face.T.contiguous().index_select(1, face).view(5, 3, -1)
    # Edge k (corner k to k + 1) gives the weight of the corner opposite it, corner k + 2.
    opposite = (edge_x * (point[:, 1] - corner_y) - edge_y * (point[:, 0] - corner_x)) * inverse_area
    return opposite.roll(-1, dims=0)


def pixel_centers(cols: torch.Tensor, rows: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(K, 2) pixel-centre coordinates (u, v) of the given pixels."""
    return torch.stack([cols.to(dtype) + 0.5, rows.to(dtype) + 0.5], dim=-1)


def nearest_faces(tri: torch.Tensor, closeness: torch.Tensor, batch: torch.Tensor, batch_size: int, height: int,
                  width: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hard rasterization: the face nearest the viewer at every pixel whose centre some face covers.

    tri (N, 3, 2) screen corners, closeness (N, 3) per corner a value linear in screen space that grows towards
    the viewer (1 / depth for a perspective camera, z for an orthographic one), batch (N,) each face's item.
    Returns the covered pixels' flat index into (batch_size, height, width), their face and their screen-space
    barycentric weights (3, K)."""
    face, cols, rows = face_pixel_pairs(tri.detach(), height, width, margin=0.0)
    weights = barycentric_weights(tri.detach(), face, pixel_centers(cols, rows, tri.dtype))
    inside = (weights >= 0).all(dim=0)
    face, cols, rows, weights = face[inside], cols[inside], rows[inside], weights[:, inside]
    near = (weights * closeness.detach()[face].T).sum(dim=0)
    pixel = (batch[face] * height + rows) * width + cols
    nearest = torch.full((batch_size * height * width,), -float("inf"), dtype=near.dtype, device=near.device)
    nearest.scatter_reduce_(0, pixel, near, reduce="amax")
    front = near >= nearest[pixel]
    pixel, face, weights = pixel[front], face[front], weights[:, front]
    # Ties (a shared edge): keep one face per pixel, the last written, so every covered pixel appears once.
    owner = torch.full((batch_size * height * width,), -1, dtype=torch.int64, device=pixel.device)
    order = torch.arange(pixel.shape[0], device=pixel.device)
    owner.scatter_reduce_(0, pixel, order, reduce="amax")
    keep = owner[pixel] == order
    return pixel[keep], face[keep], weights[:, keep]
