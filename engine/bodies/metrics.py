"""Errors of a fitted body against the truth, in millimetres, per batch item (B,): the body-fitting papers'
metrics. MPJPE and V2V compare points with both roots at the origin; PA- prefixed ones after Procrustes
alignment (the rotation, scale and translation that best map the estimate onto the truth)."""
from __future__ import annotations

import torch

MM = 1000.0


def _check(estimate: torch.Tensor, truth: torch.Tensor) -> None:
    if estimate.shape != truth.shape or estimate.ndim != 3 or estimate.shape[-1] != 3:
        raise ValueError(f"estimate and truth must both have shape (B, N, 3), got {tuple(estimate.shape)} and "
                         f"{tuple(truth.shape)}")


def mean_distance_mm(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(B,) the mean distance of corresponding points (B, N, 3), metres in, millimetres out."""
    _check(estimate, truth)
    return MM * (estimate - truth).norm(dim=-1).mean(-1)


def root_aligned_mm(estimate: torch.Tensor, truth: torch.Tensor, root_estimate: torch.Tensor,
                    root_truth: torch.Tensor) -> torch.Tensor:
    """(B,) mean distance after moving each set's root (B, 3) to the origin: MPJPE of joints, V2V of vertices."""
    return mean_distance_mm(estimate - root_estimate[:, None], truth - root_truth[:, None])


def procrustes(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(B, N, 3) the estimate under the similarity transform that best fits it to the truth (least squares,
    Umeyama): rotation without reflection, uniform scale, translation."""
    _check(estimate, truth)
    mean_e, mean_t = estimate.mean(1, keepdim=True), truth.mean(1, keepdim=True)
    e, t = estimate - mean_e, truth - mean_t
    covariance = t.transpose(1, 2) @ e  # (B, 3, 3)
    u, s, vh = torch.linalg.svd(covariance)
    sign = torch.sign(torch.linalg.det(u @ vh))
    fix = torch.ones_like(s)
    fix[:, -1] = sign
    rotation = u @ torch.diag_embed(fix) @ vh
    scale = (s * fix).sum(-1) / e.square().sum((1, 2)).clamp(min=1e-12)
    return scale[:, None, None] * (e @ rotation.transpose(1, 2)) + mean_t


def procrustes_aligned_mm(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(B,) mean distance after Procrustes alignment (PA-MPJPE of joints, PA-V2V of vertices)."""
    return mean_distance_mm(procrustes(estimate, truth), truth)
