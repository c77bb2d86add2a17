"""SoftRas-style probabilistic silhouettes (Liu et al. 2019).

Each face f covers pixel p with probability D = sigmoid(sign * d^2 / sigma), d the distance from the pixel
centre to the triangle in NDC units of half the image height (NDC itself for square images), sign +1 inside
and -1 outside; the silhouette is A = 1 - prod_f (1 - D). Faces farther than d^2 >= sigma * ln(1/eps - 1)
from a pixel (D < eps) are skipped, so each face only visits its bounding box grown by that radius.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .raster_common import check_screen_inputs, face_pixel_pairs, flatten_visible_faces, pixel_centers

DEFAULT_SIGMA = 1e-4
"""SoftRas' sharpness at 64-128 px (its own default, 1e-5, suits 256 px and up)."""
START_SIGMA = 1e-3
"""Where the optimizers' schedule starts: soft, for reach (a face covers pixels up to 6 px away at 128 px). Of
the starts measured (1e-5 to 1e-3, each down to FINAL_SIGMA), the softest left the fewest local minima."""
FINAL_SIGMA = 1e-6
"""Where the optimizers' schedule ends: at 128 px a face then reaches 0.2 px beyond its edges, so the soft
silhouette is the hard one but for the pixel centres that close to an edge (at 1e-7, 0.06 px, too few pixels
keep a gradient and the optimizer stalls)."""
SIGMA_STEPS = 100
"""Iterations over which the optimizers' sigma falls geometrically from the first value to the last."""
DEFAULT_EPS = 1e-4
"""Coverage probability below which a face is skipped at a pixel."""
_NEXT_CORNER = torch.tensor([1, 2, 0])


def influence_radius_pixels(sigma: float, eps: float, height: int) -> float:
    """Distance in pixels beyond which a face covers a pixel with probability below eps."""
    return math.sqrt(sigma * math.log(1.0 / eps - 1.0)) * 0.5 * height


def rasterize_silhouette_softras(
    uv: torch.Tensor,
    depth: torch.Tensor,
    faces: torch.Tensor,
    height: int,
    width: int,
    near: float = 0.1,
    sigma: float = DEFAULT_SIGMA,
    eps: float = DEFAULT_EPS,
) -> torch.Tensor:
    """Soft silhouettes (B, H, W) in [0, 1], differentiable w.r.t. uv (B, V, 2) pixel coordinates.

    depth: (B, V) view depth; faces: (F, 3) or (B, F, 3). Faces with a corner nearer than `near` and
    degenerate faces (batch padding) are not drawn.
    """
    faces = check_screen_inputs(uv, depth, faces, height, width)
    if sigma <= 0 or not 0 < eps < 0.5:
        raise ValueError(f"SoftRas needs sigma > 0 and 0 < eps < 0.5, got sigma={sigma}, eps={eps}")
    return _SoftSilhouette.apply(uv, depth, faces, height, width, near, sigma, eps)


class _SoftSilhouette(torch.autograd.Function):
    """Forward and analytic backward over the (face, pixel) pairs within reach. Per pair only the nearest
    boundary point is kept: the distance is minimal there, so to first order the gradient is that of the
    distance to a fixed point on the edge."""

    @staticmethod
    def forward(ctx, uv, depth, faces, height, width, near, sigma, eps):  # type: ignore[override]
        flat = flatten_visible_faces(uv, depth, faces, near)
        tri = uv.detach().reshape(-1, 2)[flat.corners]
        face, cols, rows = face_pixel_pairs(tri, height, width, margin=influence_radius_pixels(sigma, eps, height))
        nearest = _NearestBoundaryPoints(tri, face, pixel_centers(cols, rows, tri.dtype))
        scale = (2.0 / height) ** 2 / sigma
        # Pairs beyond the influence radius are zeroed rather than removed: cheaper than compacting the arrays.
        within = nearest.inside | (nearest.squared * scale < math.log(1.0 / eps - 1.0))
        sign = nearest.inside.to(tri.dtype) * 2.0 - 1.0
        signed = sign * nearest.squared * scale
        pixel = (flat.batch.index_select(0, face) * height + rows) * width + cols
        log_transparency = torch.zeros(uv.shape[0] * height * width, dtype=uv.dtype, device=uv.device)
        log_transparency.index_add_(0, pixel, torch.where(within, F.logsigmoid(-signed), 0.0))
        silhouette = 1.0 - torch.exp(log_transparency)

        corners = flat.corners.index_select(0, face)
        start = corners.gather(1, nearest.edge[:, None]).squeeze(1)
        end = corners.gather(1, _NEXT_CORNER.to(face.device)[nearest.edge][:, None]).squeeze(1)
        coverage_slope = torch.where(within, torch.sigmoid(signed) * sign * scale, 0.0)
        ctx.save_for_backward(pixel, silhouette, coverage_slope, nearest.offset, nearest.t, start, end)
        ctx.num_vertices = uv.shape[0] * uv.shape[1]
        return silhouette.view(uv.shape[0], height, width)

    @staticmethod
    def backward(ctx, grad_silhouette):  # type: ignore[override]
        pixel, silhouette, coverage_slope, offset, edge_weight, start, end = ctx.saved_tensors
        # A = 1 - exp(sum log(1 - D_f)); d log(1 - D)/d(signed) = -D; d(squared)/d(corner) = -2 offset * weight.
        grad_log_transparency = -grad_silhouette.reshape(-1) * (1.0 - silhouette)
        grad_squared = grad_log_transparency.index_select(0, pixel) * -coverage_slope
        grad_point = (-2.0 * grad_squared).unsqueeze(-1) * offset
        grad_uv = torch.zeros(ctx.num_vertices, 2, dtype=offset.dtype, device=offset.device)
        grad_uv.index_add_(0, start, grad_point * (1.0 - edge_weight).unsqueeze(-1))
        grad_uv.index_add_(0, end, grad_point * edge_weight.unsqueeze(-1))
        return grad_uv.view(grad_silhouette.shape[0], -1, 2), None, None, None, None, None, None, None


class _NearestBoundaryPoints:
    """Per (face, point) pair: the nearest point of the face's boundary, as offset (K, 2) from it to the point,
    its edge (K,) (edge k runs from corner k to corner k + 1) and weight t (K,) along that edge; its squared
    distance (K,); and whether the point is inside the face (K,).

    Arrays are laid out (3 edges, K pairs): on a CPU, row-wise operations on that layout are several times
    faster than on (K, 3), whose short rows defeat vectorisation."""

    def __init__(self, tri: torch.Tensor, face: torch.Tensor, point: torch.Tensor):
        edge = tri.roll(-1, dims=1) - tri
        inverse_length = 1.0 / (edge * edge).sum(-1).clamp(min=1e-12)
        winding = torch.sign(edge[:, 0, 0] * edge[:, 1, 1] - edge[:, 0, 1] * edge[:, 1, 0])
        per_face = torch.cat([tri[..., 0], tri[..., 1], edge[..., 0], edge[..., 1], inverse_length,
                              winding[:, None].expand(-1, 3)], dim=1)
        per_pair = per_face.T.contiguous().index_select(1, face)
        start_x, start_y, edge_x, edge_y, inverse_length, winding = per_pair.view(6, 3, -1).unbind(0)
        rel_x = point[:, 0] - start_x
        rel_y = point[:, 1] - start_y
        side = (edge_x * rel_y - edge_y * rel_x) * winding
        self.inside = (side[0] >= 0) & (side[1] >= 0) & (side[2] >= 0)
        t = ((rel_x * edge_x + rel_y * edge_y) * inverse_length).clamp_(0.0, 1.0)
        offset_x = rel_x - t * edge_x
        offset_y = rel_y - t * edge_y
        squared = offset_x * offset_x + offset_y * offset_y
        first_two = squared[0] <= squared[1]
        best = torch.where(first_two, squared[0], squared[1])
        last = squared[2] < best
        self.squared = torch.where(last, squared[2], best)
        self.edge = torch.where(last, 2, torch.where(first_two, 0, 1))
        pick = self.edge.unsqueeze(0)
        self.t = t.gather(0, pick).squeeze(0)
        self.offset = torch.stack([offset_x.gather(0, pick).squeeze(0), offset_y.gather(0, pick).squeeze(0)], dim=1)
