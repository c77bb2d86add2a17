"""Learning pose-from-2d's energy through its minima (the paper's Sec. 5) with the energy trainer.

Each step draws a batch of training poses (the `train` source: fresh sampler poses at the ik train split's
seeds), places each at a random yaw and root, simulates the detector on them, finds the energy's minima with the
search then Levenberg-Marquardt at the current weights, and steps the weights on the minima's MPJPE through the
argmin layer. Everything the energy has is learned: the pose bases (mean, basis), their log_sigma, the mixture's
logits and temperature, the camera and joint weights, the joint offsets and the Huber threshold, each at its own
step size (LEARNING_RATE_SCALES). The held-out figures are those of a fixed batch of the `val` source.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ...learn.energy_training import EnergyTrainConfig
from ...solvers.generic import make_generic
from ..spec import bounded
from . import model
from .cameras import MAX_CAMERAS
from .data import canonical_poses, category_poses, place
from .problem import CAMERA_CHOICES, Pose2DConfig, PoseFrom2DProblem, make_problem, mpjpe_mm
from .search import search

LEARNING_RATE_SCALES = {"basis": 0.1, "mean": 0.3, "log_camera_weights": 3.0, "log_joint_weights": 3.0,
                        "log_huber": 3.0, "mixing": 3.0, "log_temperature": 3.0}
"""Each weight's step size relative to --learning-rate (1 for the others: log_sigma, joint_offsets): the bases'
entries (unit vectors of 48 numbers) must move slowly, or the noise of a batch's gradient scrambles them, while
the log-weights must be able to move by a unit in a few hundred steps."""


@dataclass(frozen=True)
class Pose2DTrainConfig(EnergyTrainConfig):
    """Settings of `feedbacklab train pose-from-2d`."""

    steps: int = bounded(300, 1, 1_000_000)
    batch_size: int = bounded(32, 1, 100_000)
    learning_rate: float = bounded(0.003, 0.0, 1e6, low_open=True)
    optimizer: str = "adam"
    cameras: int = bounded(4, 1, MAX_CAMERAS)
    """1 (monocular) or 4 cameras: the weights are the rig's."""
    noise_px: float = bounded(5.0, 0.1, 100.0)
    """The simulated detector's nominal pixel noise (the problem's --noise-px)."""
    outlier_rate: float = bounded(0.05, 0.0, 0.5)
    """Share of detected joints that are outliers (the problem's --outlier-rate)."""
    iterations: int = bounded(10, 1, 10_000)
    """Levenberg-Marquardt iterations after the search, for each minimum."""
    validation_size: int = bounded(128, 1, 100_000)
    """Poses of the held-out batch (the val source)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.cameras not in CAMERA_CHOICES:
            raise ValueError(f"--cameras {self.cameras}: choose 1 (monocular) or {MAX_CAMERAS}")

    def problem_config(self, seed: int) -> Pose2DConfig:
        """The problem config of a batch whose detector draws come from this seed."""
        return Pose2DConfig(cameras=self.cameras, energy="untrained", noise_px=self.noise_px,
                            outlier_rate=self.outlier_rate, detector_seed=seed)


@dataclass
class Batch:
    """Instances, their detections and their truth."""

    problem: PoseFrom2DProblem
    observation: torch.Tensor
    truth: torch.Tensor


def simulated_batch(config: Pose2DTrainConfig, smpl_poses: torch.Tensor, generator: torch.Generator) -> Batch:
    """The instances of these poses at random yaws and roots, with detector draws seeded from the generator."""
    truth = place(canonical_poses(smpl_poses), generator)
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    problem = make_problem(config.problem_config(seed), len(truth), weights=model.untrained_weights(config.cameras))
    return Batch(problem, problem.forward(truth), truth)


def minimise(problem: PoseFrom2DProblem, observation: torch.Tensor, iterations: int) -> torch.Tensor:
    """(B, 52) the energy's minima: the search, then Levenberg-Marquardt."""
    start = search(problem, observation)
    return make_generic("lm", max_iterations=iterations).solve(problem, observation, start).x


class Pose2DTask:
    """The EnergyTask of pose-from-2d (module docstring)."""

    problem = model.PROBLEM

    def __init__(self, config: Pose2DTrainConfig):
        self.config = config
        generator = torch.Generator().manual_seed(config.seed + 1)
        self.validation = simulated_batch(config, category_poses("val", config.validation_size, config.seed),
                                          generator)

    def initial_weights(self) -> dict[str, torch.Tensor]:
        return model.untrained_weights(self.config.cameras)

    def learning_rate_scales(self) -> dict[str, float]:
        return dict(LEARNING_RATE_SCALES)

    def training_batch(self, step: int, generator: torch.Generator) -> Batch:
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        return simulated_batch(self.config, category_poses("train", self.config.batch_size, seed), generator)

    def minimum(self, batch: Batch, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        return minimise(batch.problem.with_weights(weights), batch.observation, self.config.iterations)

    def energy(self, y: torch.Tensor, batch: Batch, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        return model.energy(y, batch.observation, weights, self.config.noise_px)

    def loss(self, y: torch.Tensor, batch: Batch) -> torch.Tensor:
        return mpjpe_mm(y, batch.truth).mean()

    def validate(self, weights: dict[str, torch.Tensor]) -> dict[str, float]:
        found = self.minimum(self.validation, weights)
        return {"mpjpe_mm": float(mpjpe_mm(found, self.validation.truth).mean())}

    def meta(self) -> dict[str, Any]:
        return {"training poses": "the ik sampler at the train split's seeds, fresh every step",
                "validation poses": f"{self.config.validation_size} of the ik val split (seed {self.config.seed})",
                "cameras": self.config.cameras, "models": model.MODELS, "untrained fit": f"{model.FIT_POSES} "
                "training poses (seed 0)", "minimum": f"search, then {self.config.iterations} LM iterations",
                "learning rate scales": dict(LEARNING_RATE_SCALES),
                "untrained validation": self.validate(self.initial_weights())}
