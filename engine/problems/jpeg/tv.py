"""Total-variation restoration of a grey JPEG inside its quantisation set: projected gradient descent on a
smoothed (Charbonnier) total variation, each step followed by the projection onto the set (Alter et al. 2005
minimise TV over the same set). A classic energy baseline: no learning, no training data."""
from __future__ import annotations

from collections.abc import Iterator

import torch

from .quantisation import QuantisationSet

TV_SMOOTHING = 1e-3
"""epsilon of sqrt(|grad x|^2 + epsilon^2), in image units: below a quarter of a grey level."""


def total_variation(image: torch.Tensor, epsilon: float = TV_SMOOTHING) -> torch.Tensor:
    """The smoothed isotropic TV of an (H, W) image (forward differences, the last row and column repeated)."""
    dy = torch.nn.functional.pad(image[1:] - image[:-1], (0, 0, 0, 1))
    dx = torch.nn.functional.pad(image[:, 1:] - image[:, :-1], (0, 1, 0, 0))
    return torch.sqrt(dx.square() + dy.square() + epsilon ** 2).sum()


def tv_iterations(observed: torch.Tensor, constraint: QuantisationSet, step_size: float = 2e-3,
                  iterations: int = 100) -> Iterator[torch.Tensor]:
    """The estimates x_1 ... x_iterations from x_0 = y: x <- P(x - step * grad TV(x)), with the step decaying as
    1 / sqrt(t) (the subgradient method's rule, since TV is barely smooth at its epsilon)."""
    x = observed.detach().clone()
    for t in range(iterations):
        x, _ = tv_step(x, constraint, step_size, t)
        yield x


def tv_step(x: torch.Tensor, constraint: QuantisationSet, step_size: float, t: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """x_{t+1} = P(x_t - step / sqrt(1 + t) * grad TV(x_t)) of an (H, W) image, and TV(x_t)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        variation = total_variation(x)
        gradient, = torch.autograd.grad(variation, x)
    with torch.no_grad():
        return constraint.project((x - step_size / (1 + t) ** 0.5 * gradient).clamp(0.0, 1.0)), variation.detach()
