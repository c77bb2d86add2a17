"""Learning the fusion energy through its minima (the paper's Sec. 4): the EnergyTask of
engine.learn.energy_training on the simulated training frames of a partition.

Each step draws a batch of training frames, finds the energy's minima as the fusion solver does (the
lowest-energy RBF centre, then L-BFGS), and takes the l1 distance of the minima to the true boxes (pixels per
coordinate, the paper's loss) through the argmin layer (lambda = --damping: 0.1 the paper's trust region, 0 the
undamped derivative of Samuel and Tappen).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ...learn.energy_training import EnergyTrainConfig
from ..spec import bounded
from . import energy as fusion_energy
from .boxes import corner_error, iou
from .problem import TrackerFusionConfig, TrackerFusionProblem, frames_problem
from .simulation import POPULATION_SEED, simulate
from .solvers import rbf_then
from .splits import PARTITIONS, split_frames


@dataclass(frozen=True)
class TrackerTrainConfig(EnergyTrainConfig):
    """Learning the fusion energy on one partition's training frames."""

    steps: int = bounded(200, 1, 1_000_000)
    """Optimizer steps on the energy's weights."""
    batch_size: int = bounded(64, 1, 100_000)
    """Training frames per step."""
    learning_rate: float = bounded(0.02, 0.0, 1e6, low_open=True)
    """Step size of the weights' optimizer."""
    optimizer: str = "adam"
    """sgd (with momentum) or adam."""
    partition: str = "sequences"
    """Training frames of: sequences (whole sequences to training or test) or frames (frames missing at random)."""
    sequences: int = bounded(60, 3, 2000)
    """Simulated sequences (the seed's simulation; the 72 trackers are the same in every one)."""
    solver_iterations: int = bounded(100, 1, 10_000)
    """L-BFGS iterations at most per minimum."""
    validation_frames: int = bounded(600, 1, 1_000_000)
    """Test frames of the partition on which the trained weights are evaluated (spread over the test split)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.partition not in PARTITIONS:
            raise ValueError(f"--partition {self.partition!r}: choose {' or '.join(PARTITIONS)}")

    def problem_config(self) -> TrackerFusionConfig:
        return TrackerFusionConfig(energy="untrained", partition=self.partition, sequences=self.sequences,
                                   simulation_seed=self.seed)


@dataclass
class FusionBatch:
    problem: TrackerFusionProblem
    observation: torch.Tensor
    truth: torch.Tensor


class TrackerFusionTask:
    """The EnergyTask of the fusion energy (see the module docstring)."""

    problem = fusion_energy.PROBLEM

    def __init__(self, config: TrackerTrainConfig):
        self.config = config
        dataset = simulate(config.seed, config.sequences)
        self.training = split_frames(dataset, config.partition, "train", config.seed)
        test = split_frames(dataset, config.partition, "test", config.seed)
        count = min(config.validation_frames, len(test))
        self.validation = test[torch.linspace(0, len(test) - 1, count).round().long()]

    def batch(self, index: torch.Tensor) -> FusionBatch:
        problem = frames_problem(self.config.problem_config(), index)
        return FusionBatch(problem, problem.forward(problem.truth), problem.truth)

    def initial_weights(self) -> dict[str, torch.Tensor]:
        return fusion_energy.untrained_weights()

    def training_batch(self, step: int, generator: torch.Generator) -> FusionBatch:
        return self.batch(self.training[torch.randint(len(self.training), (self.config.batch_size,),
                                                      generator=generator)])

    def minimum(self, batch: FusionBatch, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        solver = rbf_then("lbfgs", max_iterations=self.config.solver_iterations)
        problem = batch.problem.with_weights(weights)
        return solver.solve(problem, batch.observation, problem.initial_estimate()).x

    def energy(self, y: torch.Tensor, batch: FusionBatch, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        return fusion_energy.energy(y, batch.observation[..., :4], batch.observation[:, 0, 4], weights)

    def loss(self, y: torch.Tensor, batch: FusionBatch) -> torch.Tensor:
        return (y - batch.truth).abs().mean()

    def validate(self, weights: dict[str, torch.Tensor]) -> dict[str, float]:
        batch = self.batch(self.validation)
        with torch.no_grad():
            y = self.minimum(batch, weights)
        return {"test_l1_px": float(self.loss(y, batch)), "test_iou": float(iou(y, batch.truth).mean()),
                "test_corner_error_px": float(corner_error(y, batch.truth).mean())}

    def meta(self) -> dict[str, Any]:
        return {"simulation": "engine/problems/tracker_fusion/simulation.py", "partition": self.config.partition,
                "sequences": self.config.sequences, "seed": self.config.seed, "population_seed": POPULATION_SEED,
                "training_frames": len(self.training), "validation_frames": len(self.validation)}
