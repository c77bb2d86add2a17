"""Random body shapes: the betas of the body-fitting problems' ground truths, N(0, SHAPE_STD^2) per coefficient,
clipped to +-SHAPE_CLIP standard deviations (the shipped body's shape space is in standard deviations)."""
from __future__ import annotations

import torch

SHAPE_STD = 1.0
SHAPE_CLIP = 3.0


def random_shapes(count: int, betas: int, generator: torch.Generator) -> torch.Tensor:
    """(count, betas) random shape coefficients."""
    return (torch.randn(count, betas, generator=generator) * SHAPE_STD).clamp(-SHAPE_CLIP, SHAPE_CLIP)
