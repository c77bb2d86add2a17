"""Comparisons of silhouette images (B, H, W) in [0, 1]."""
from __future__ import annotations

import torch


def silhouette_iou(a: torch.Tensor, b: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """(B,) intersection over union of the silhouettes thresholded at `threshold`; 1 where both are empty."""
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"silhouettes must both be (B, H, W), got {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a > threshold, b > threshold
    intersection = (a & b).flatten(1).sum(1)
    union = (a | b).flatten(1).sum(1)
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.ones_like(union, dtype=torch.float32))


def silhouette_difference(rendering: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
    """(B,) mean squared difference per pixel: the data energy of every silhouette problem."""
    return (rendering - observation).square().flatten(1).mean(1)
