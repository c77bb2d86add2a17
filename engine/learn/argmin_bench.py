"""Timing of the argmin layer (engine.learn.argmin): its backward against its forward's finishing Newton step,
measured side by side in one run, on a given energy. The benchmark command that reports it lives with the
problem that offers it (`feedbacklab bench argmin`, robust-mean's spec)."""
from __future__ import annotations

import statistics
import time
from typing import Sequence

import torch

from .argmin import ArgminSettings, EnergyFunction, argmin, finishing_step


def time_layer(energy: EnergyFunction, y: torch.Tensor, weights: Sequence[torch.Tensor], settings: ArgminSettings,
               repeats: int = 5) -> dict[str, float]:
    """Median milliseconds of the finishing Newton step, of the layer's whole forward (finishing steps and the
    curvature check) and of its backward, at a minimum y of `energy`, and the backward / Newton step ratio."""
    frozen = [w.detach() for w in weights]
    newton, forward, backward = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        finishing_step(lambda v: energy(v, frozen), y, settings)
        newton.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = argmin(energy, y, weights, settings)
        forward.append(time.perf_counter() - started)
        loss = result.y.square().sum()
        started = time.perf_counter()
        loss.backward()
        backward.append(time.perf_counter() - started)
        for w in weights:
            w.grad = None
    ms = {name: 1000 * statistics.median(values) for name, values in
          (("newton_step_ms", newton), ("forward_ms", forward), ("backward_ms", backward))}
    return dict(ms, ratio=ms["backward_ms"] / ms["newton_step_ms"])


def smooth_energy(dimension: int, batch: int, seed: int = 0) -> tuple[EnergyFunction, torch.Tensor, list[torch.Tensor]]:
    """A smooth, non-quadratic energy of y (B, dimension) with per-coordinate weights, its minimum found by
    Newton, and the weights: E = sum cosh(y - w) + 0.05 (sum y)^2, a coupled system with a positive definite
    Hessian."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(batch, dimension, generator=generator, dtype=torch.float64).requires_grad_(True)

    def energy(y: torch.Tensor, weights: Sequence[torch.Tensor]) -> torch.Tensor:
        return torch.cosh(y - weights[0]).sum(1) + 0.05 * y.sum(1).square()

    y = w.detach().clone()
    settings = ArgminSettings(damping=0.0, hessian="hvp")
    for _ in range(20):
        y = finishing_step(lambda v: energy(v, [w.detach()]), y, settings)
    return energy, y, [w]
