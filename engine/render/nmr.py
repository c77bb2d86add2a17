"""NMR-style silhouette rasterizer: hard rasterization forward, the Neural Mesh Renderer's approximate gradient
backward (Kato et al. 2018, as summarised in DESIGN.md).

Backward, per axis: the x-gradient of a vertex comes from the image rows its faces span, the y-gradient from
the columns. On each row a face covers the interval between its left and right boundary crossings. A pixel
of that row outside the face would flip from background to silhouette if the nearer boundary moved onto it;
a pixel where this face is the frontmost would flip to background if a boundary moved past it (as in NMR,
what lies behind the face is not looked at: without that, a closed mesh, whose every pixel is covered
twice, would get no gradient to shrink). Each such flip that lowers the loss contributes
(I_after - I_before) * dL/dI divided by the distance the boundary must move, shared between the two corners
of the crossed edge by their weights along it. Outside pixels are
reached along the whole row; to keep the cost linear in face rows, the sum over them is read from two
per-row tables (distances j and j + 1 from the nearest pixel), exact for the nearest pixel and interpolated
linearly in the sub-pixel offset beyond it (at most 12% off for the second pixel, less further out).
"""
from __future__ import annotations

import functools

import torch

from .raster_common import (
    check_screen_inputs,
    barycentric_weights,
    face_pixel_pairs,
    face_rows,
    flatten_visible_faces,
    pixel_centers,
)

MIN_PIXEL_DISTANCE = 0.1
"""Smallest boundary move, in pixels, that a gradient is divided by (a pixel centre on the boundary)."""


def rasterize_silhouette_nmr(
    uv: torch.Tensor, depth: torch.Tensor, faces: torch.Tensor, height: int, width: int, near: float = 0.1
) -> torch.Tensor:
    """Hard silhouettes (B, H, W) in {0, 1} of screen-space meshes, with NMR's approximate gradient w.r.t. uv.

    uv: (B, V, 2) pixel coordinates (Camera.project), depth: (B, V) view depth, faces: (F, 3) or (B, F, 3).
    Faces with a corner nearer than `near` and degenerate faces (batch padding) are not drawn.
    """
    faces = check_screen_inputs(uv, depth, faces, height, width)
    return _NMRSilhouette.apply(uv, depth, faces, height, width, near)


class _NMRSilhouette(torch.autograd.Function):
    @staticmethod
    def forward(ctx, uv, depth, faces, height, width, near):  # type: ignore[override]
        flat = flatten_visible_faces(uv, depth, faces, near)
        tri = uv.detach().reshape(-1, 2)[flat.corners]
        face, cols, rows = face_pixel_pairs(tri, height, width, margin=0.0)
        weights = barycentric_weights(tri, face, pixel_centers(cols, rows, tri.dtype))
        inside = torch.nonzero((weights[0] >= 0) & (weights[1] >= 0) & (weights[2] >= 0)).squeeze(1)
        face, cols, rows = face.index_select(0, inside), cols.index_select(0, inside), rows.index_select(0, inside)
        pixel = (flat.batch.index_select(0, face) * height + rows) * width + cols
        num_pixels = uv.shape[0] * height * width
        coverage = torch.bincount(pixel, minlength=num_pixels).view(-1, height, width)
        # Frontmost face per pixel: 1/depth is linear in screen space, the largest is nearest.
        corner_depth = depth.detach().reshape(-1)[flat.corners].T.contiguous().index_select(1, face)
        inverse_depth = (weights.index_select(1, inside) / corner_depth).sum(dim=0)
        nearest = torch.full((num_pixels,), -float("inf"), dtype=tri.dtype, device=tri.device)
        nearest.scatter_reduce_(0, pixel, inverse_depth, reduce="amax")
        front = inverse_depth >= nearest.index_select(0, pixel)
        face, cols, rows = face[front], cols[front], rows[front]
        ctx.save_for_backward(tri, flat.corners, flat.batch, face, cols, rows, coverage)
        ctx.shape = (uv.shape[0], uv.shape[1], height, width)
        return (coverage > 0).to(uv.dtype)

    @staticmethod
    def backward(ctx, grad_image):  # type: ignore[override]
        tri, corners, batch, face, cols, rows, coverage = ctx.saved_tensors
        batch_size, num_vertices, height, width = ctx.shape
        flips_on = (-grad_image).clamp(min=0) * (coverage == 0)
        flips_off = grad_image.clamp(min=0) * (coverage > 0)
        grad_uv = torch.zeros(batch_size * num_vertices, 2, dtype=tri.dtype, device=tri.device)
        # x from rows; y from columns: the same computation on the transposed picture.
        grad_uv[:, 0] = _axis_gradient(tri, corners, batch, flips_on, flips_off, face, cols, rows, grad_uv.shape[0])
        grad_uv[:, 1] = _axis_gradient(
            tri.flip(-1), corners, batch, flips_on.transpose(1, 2), flips_off.transpose(1, 2), face, rows, cols,
            grad_uv.shape[0],
        )
        return grad_uv.view(batch_size, num_vertices, 2), None, None, None, None, None


def _axis_gradient(
    tri: torch.Tensor,
    corners: torch.Tensor,
    batch: torch.Tensor,
    flips_on: torch.Tensor,
    flips_off: torch.Tensor,
    inside_face: torch.Tensor,
    inside_along: torch.Tensor,
    inside_line: torch.Tensor,
    num_vertices: int,
) -> torch.Tensor:
    """Gradient of every flat vertex's coordinate 0 of tri (N, 3, 2), scanning lines along coordinate 1.

    flips_on/off: (B, lines, along) loss decrease per pixel when it turns on / off; inside_*: each covered
    pixel's frontmost face, from the forward pass.
    """
    num_lines, length = flips_on.shape[1:]
    face, line = face_rows(tri, num_lines)
    inside_pixel = (batch[inside_face] * num_lines + inside_line) * length + inside_along
    weight_off = flips_off.reshape(-1).index_select(0, inside_pixel)
    active = weight_off > 0
    num_outside = face.shape[0]
    crossings = _LineCrossings(
        tri, corners, torch.cat([face, inside_face[active]]), torch.cat([line, inside_line[active]])
    )

    weights_on = flips_on.reshape(-1, length)
    near_after, far_after, near_before, far_before = _outside_tables(weights_on)
    batch_line = batch[face] * num_lines + line
    right = -_outside_sum(weights_on, near_after, far_after, batch_line, crossings.right[:num_outside], True)
    left = _outside_sum(weights_on, near_before, far_before, batch_line, crossings.left[:num_outside], False)

    centre = inside_along[active].to(tri.dtype) + 0.5
    weight = weight_off[active]
    left_inside = -weight / (centre - crossings.left[num_outside:]).clamp(min=MIN_PIXEL_DISTANCE)
    right_inside = weight / (crossings.right[num_outside:] - centre).clamp(min=MIN_PIXEL_DISTANCE)
    return crossings.scatter(torch.cat([left, left_inside]), torch.cat([right, right_inside]), num_vertices)


class _LineCrossings:
    """Where the lines (coordinate 1 = pixel centre of `line`) cross the boundary of `face`: every such line
    meets the face's long edge (spanning its whole extent in coordinate 1) and one of its two short edges."""

    def __init__(self, tri: torch.Tensor, corners: torch.Tensor, face: torch.Tensor, line: torch.Tensor):
        order = tri[..., 1].argsort(dim=1)
        sorted_tri = tri.gather(1, order.unsqueeze(-1).expand(-1, -1, 2)).index_select(0, face)
        sorted_ids = corners.gather(1, order).index_select(0, face)
        (x0, y0), (x1, y1), (x2, y2) = (corner.unbind(-1) for corner in sorted_tri.unbind(1))
        y = line.to(tri.dtype) + 0.5
        self.long_t = ((y - y0) / (y2 - y0).clamp(min=1e-12)).clamp(0, 1)
        long_x = x0 + self.long_t * (x2 - x0)
        upper = y < y1
        start_x, start_y = torch.where(upper, x0, x1), torch.where(upper, y0, y1)
        end_x, end_y = torch.where(upper, x1, x2), torch.where(upper, y1, y2)
        self.short_t = ((y - start_y) / (end_y - start_y).clamp(min=1e-12)).clamp(0, 1)
        short_x = start_x + self.short_t * (end_x - start_x)
        self.long_is_left = long_x <= short_x
        self.left = torch.minimum(long_x, short_x)
        self.right = torch.maximum(long_x, short_x)
        self.long_ids = sorted_ids[:, 0], sorted_ids[:, 2]
        self.short_ids = torch.where(upper, sorted_ids[:, 0], sorted_ids[:, 1]), torch.where(
            upper, sorted_ids[:, 1], sorted_ids[:, 2]
        )

    def scatter(self, left_value: torch.Tensor, right_value: torch.Tensor, num_vertices: int) -> torch.Tensor:
        """Per-vertex sums of the values at each crossing, shared by the crossed edge's two corners according to
        how far the crossing moves when each corner moves."""
        on_long = torch.where(self.long_is_left, left_value, right_value)
        on_short = torch.where(self.long_is_left, right_value, left_value)
        index = torch.cat([self.long_ids[0], self.long_ids[1], self.short_ids[0], self.short_ids[1]])
        value = torch.cat(
            [on_long * (1 - self.long_t), on_long * self.long_t, on_short * (1 - self.short_t), on_short * self.short_t]
        )
        return torch.zeros(num_vertices, dtype=value.dtype, device=value.device).index_add_(0, index, value)


@functools.lru_cache(maxsize=16)
def _distance_kernels(length: int, device: str, dtype: torch.dtype) -> torch.Tensor:
    """(length, 4 * length): columns [p0] of 1/(p - p0), 1/(p - p0 + 1) for p > p0, and their mirrors for p < p0."""
    p = torch.arange(length, dtype=dtype, device=device)
    offset = p[:, None] - p[None, :]
    after = offset > 0
    near = torch.where(after, 1.0 / offset.clamp(min=1), torch.zeros_like(offset))
    far = torch.where(after, 1.0 / (offset + 1).clamp(min=1), torch.zeros_like(offset))
    return torch.cat([near, far, near.T, far.T], dim=1)


def _outside_tables(weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per line and nearest pixel p0: sums of weights beyond p0 over distance j and j + 1, both directions."""
    kernels = _distance_kernels(weights.shape[1], str(weights.device), weights.dtype)
    return tuple((weights @ kernels).chunk(4, dim=1))


def _outside_sum(
    weights: torch.Tensor,
    table_near: torch.Tensor,
    table_far: torch.Tensor,
    batch_line: torch.Tensor,
    crossing: torch.Tensor,
    toward_end: bool,
) -> torch.Tensor:
    """Sum over pixels beyond the crossing (towards the line's end or start) of weight / distance."""
    length = weights.shape[1]
    nearest = torch.floor(crossing + 0.5) if toward_end else torch.ceil(crossing - 0.5) - 1
    # A crossing off the image still reaches the image's pixels; beyond the nearest one, distances are read as
    # if it were 1 px away.
    reachable = torch.isfinite(crossing) & ((nearest < length) if toward_end else (nearest >= 0))
    index = torch.nan_to_num(nearest).clamp(0, length - 1).long()
    offset = (index + 0.5 - crossing) if toward_end else (crossing - index - 0.5)
    offset = torch.nan_to_num(offset, nan=1.0, posinf=1.0, neginf=1.0).clamp(min=MIN_PIXEL_DISTANCE)
    blend = offset.clamp(max=1.0)
    total = weights[batch_line, index] / offset + (1 - blend) * table_near[batch_line, index] + blend * table_far[
        batch_line, index
    ]
    return torch.where(reachable, total, torch.zeros_like(total))
