"""Learning robust-mean's RBF width sigma through the energy's minimum (the paper's Fig. 2): SGD with momentum
0.999 on log sigma against the squared error of the minimum to the true mean, the minimum differentiated by the
argmin layer, damped (lambda 0.1) or not (lambda 0)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ...learn.energy_training import EnergyTrainConfig
from ..spec import bounded
from .problem import UNTRAINED_SIGMA, RobustMeanConfig, RobustMeanProblem, rbf_energy
from .solvers import REFINERS, energy_minimum

VALIDATION_SEED = 1_000_003
"""Seed of the held-out problems (never a training seed: those come from the run's generator)."""


@dataclass(frozen=True)
class RobustMeanTrainConfig(EnergyTrainConfig):
    """The paper's setting: SGD, momentum 0.999, from a broad sigma."""

    steps: int = bounded(2000, 1, 1_000_000)
    """SGD steps on log sigma."""
    batch_size: int = bounded(4, 1, 100_000)
    """Problems per step."""
    learning_rate: float = bounded(3e-7, 0.0, 1e6, low_open=True)
    """SGD step size on log sigma (momentum 0.999 multiplies its effect by up to 1,000)."""
    momentum: float = bounded(0.999, 0.0, 0.9999)
    """SGD momentum: the paper's 0.999 damps the volatile gradients."""
    untrained_sigma: float = bounded(UNTRAINED_SIGMA, 1e-3, 1e4)
    """The initial RBF width."""
    validation_problems: int = bounded(500, 1, 1_000_000)
    """Held-out problems the final sigma is scored on."""
    refine: str = "newton"
    """The workbench solver that refines the lowest-energy sample into the minimum: newton, lbfgs, adam, lm or
    gauss-newton (the argmin layer finishes every one with a Newton step)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.refine not in REFINERS:
            raise ValueError(f"--refine {self.refine!r}: choose one of {', '.join(REFINERS)}")


@dataclass
class Batch:
    samples: torch.Tensor
    truth: torch.Tensor
    problem: RobustMeanProblem


class RobustMeanTask:
    """The EnergyTask of robust-mean (engine.learn.energy_training)."""

    problem = "robust-mean"

    def __init__(self, config: RobustMeanTrainConfig, data: RobustMeanConfig = RobustMeanConfig()):
        self.config, self.data = config, data

    def initial_weights(self) -> dict[str, torch.Tensor]:
        return {"log_sigma": torch.tensor(math.log(self.config.untrained_sigma))}

    def draw(self, count: int, seed: int, log_sigma: torch.Tensor) -> Batch:
        problem = RobustMeanProblem.draw(RobustMeanConfig(**{**vars(self.data), "draw_seed": seed}), count, log_sigma)
        truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed + 1))
        return Batch(problem.forward(truth), truth, problem)

    def training_batch(self, step: int, generator: torch.Generator) -> Batch:
        seed = int(torch.randint(2**30, (1,), generator=generator))
        return self.draw(self.config.batch_size, seed, torch.tensor(math.log(self.config.untrained_sigma)))

    def minimum(self, batch: Batch, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        return energy_minimum(batch.problem.with_log_sigma(weights["log_sigma"]), batch.samples, self.config.refine)

    def energy(self, y: torch.Tensor, batch: Batch, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        return rbf_energy(y, batch.samples, weights["log_sigma"])

    def loss(self, y: torch.Tensor, batch: Batch) -> torch.Tensor:
        return (y - batch.truth).square().mean()

    def validate(self, weights: dict[str, torch.Tensor]) -> dict[str, float]:
        return {"squared_error": validation_error(self, weights["log_sigma"]), "sigma": float(weights["log_sigma"].exp())}

    def meta(self) -> dict[str, Any]:
        return {"data": f"{self.data.inliers} inliers N(mu, {self.data.inlier_std:g}^2), {self.data.outliers} "
                        f"outliers U[-{self.data.range:g}, {self.data.range:g}], fresh problems each step",
                "validation": f"{self.config.validation_problems} problems, seed {VALIDATION_SEED}"}


def validation_error(task: RobustMeanTask, log_sigma: torch.Tensor) -> float:
    """Mean squared error of the minimum to the true mean over the held-out problems, at this sigma (NaN when
    sigma is not finite)."""
    if not bool(torch.isfinite(log_sigma)):
        return float("nan")
    batch = task.draw(task.config.validation_problems, VALIDATION_SEED, log_sigma)
    return float(task.loss(task.minimum(batch, {"log_sigma": log_sigma}), batch))
