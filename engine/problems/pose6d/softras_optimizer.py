"""pose6d's SoftRas optimizers: Adam (or L-BFGS) on the squared silhouette difference through the SoftRas-style
rasterizer, its sharpness sigma falling geometrically over the iterations from soft to sharp.

A soft silhouette is larger than the hard observation (every face near a rim pixel adds coverage outside the
boundary), so at a fixed sigma the energy is lowest with the object too far away. A soft start keeps SoftRas'
reach; the sharp end (FINAL_SIGMA) leaves almost no blur and so almost no bias. The energy stays SoftRas' own at
every iteration, only its sigma changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ...render.softras import FINAL_SIGMA, SIGMA_STEPS, START_SIGMA
from ...solvers.base import StepResult
from ...solvers.generic import GradientOptimizer, GradientOptimizerParams


@dataclass(frozen=True)
class SoftRasParams(GradientOptimizerParams):
    """A gradient optimizer through the SoftRas-style rasterizer with a sigma schedule; sigma_final = sigma keeps
    sigma fixed (the schedule-free SoftRas)."""

    forward_options: dict[str, Any] = field(default_factory=lambda: {"rasterizer": "softras"})
    """Keyword arguments of problem.forward_differentiable; sigma is the schedule's at each iteration."""
    sigma: float = START_SIGMA
    """SoftRas sharpness at the first iteration (smaller is sharper)."""
    sigma_final: float = FINAL_SIGMA
    """SoftRas sharpness from iteration sigma_steps on; at most sigma."""
    sigma_steps: int = SIGMA_STEPS
    """Iterations over which sigma falls geometrically from sigma to sigma_final (0: sigma_final throughout)."""

    def sigma_at(self, iteration: int) -> float:
        """The sharpness at an iteration: sigma * (sigma_final / sigma) ** (iteration / sigma_steps), then
        sigma_final."""
        progress = min(iteration / self.sigma_steps, 1.0) if self.sigma_steps else 1.0
        return self.sigma * (self.sigma_final / self.sigma) ** progress


class SoftRasOptimizer(GradientOptimizer):
    """GradientOptimizer whose forward sigma follows SoftRasParams' schedule; each record's info holds the 'sigma'
    its energy was computed with. Energies at different sigmas are not comparable, so the stopping rule's
    patience counts from the end of the schedule (an item stopped on the way would keep that sigma's bias)."""

    params: SoftRasParams

    def __init__(self, params: SoftRasParams | None = None, name: str = "softras"):
        super().__init__(params or SoftRasParams(), name)

    def forward_options(self, iteration: int) -> dict[str, Any]:
        return {**self.params.forward_options, "sigma": self.params.sigma_at(iteration)}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        result = super().step(problem, observation, x, state, iteration)
        sigma = self.params.sigma_at(iteration)
        result.info["sigma"] = torch.full_like(result.energy, sigma)
        result.energy_changed = iteration > 0 and sigma != self.params.sigma_at(iteration - 1)
        return result
