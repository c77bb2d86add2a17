"""pose6d's learned solvers as a task of the stage-wise trainer (engine.learn.train).

Stage t trains g^t to predict the update that takes x_t to x_gt from (y, y_t = f(x_t), y - y_t, x_t), MSE loss in
units of the targets' spread, where y_t is re-rendered with pyrender from the estimates the earlier stages made.
The update is either relative (the rotation vector of q_gt q_t^-1 and t_gt - t_t) or additive (x_gt - x_t, the
paper's); see NetworkConfig.relative_update.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, ClassVar

import torch

from ...learn.checkpoint import MAX_STEPS
from ...learn.train import StageData, TrainConfig
from ...meshes import Mesh
from ...rotations import (
    normalize_quaternion,
    quaternion_conjugate,
    quaternion_from_rotation_vector,
    quaternion_multiply,
    quaternion_to_rotation_vector,
)
from ...shape_variety import shape_variants
from ..spec import bounded
from .dataset import PoseDataset, make_pose_dataset
from .network import MAX_HIDDEN, MAX_WIDTH, NetworkConfig, UpdateNetwork
from .problem import MAX_IMAGE_SIZE, Pose6DConfig, identity_poses

LEARNED_KINDS = {"feedback": (True, False), "feedback-shared": (True, True), "regression": (False, False)}
"""The trained solvers' (feedback, shared)."""


@dataclass(frozen=True)
class Pose6DTrainConfig(TrainConfig):
    """Settings of a pose6d training run (the `feedbacklab train pose6d` flags)."""

    steps: int = bounded(5, 1, MAX_STEPS)
    """Feedback steps (stages); 1 for the regression baseline."""
    image_size: int = bounded(128, 32, MAX_IMAGE_SIZE, aliases=("--size",))
    """Silhouette size in pixels (divisible by 32)."""
    width: int = bounded(16, 1, MAX_WIDTH)
    hidden: int = bounded(256, 1, MAX_HIDDEN)
    """Width of the update network's fully connected layer."""
    relative_update: bool = True
    """Updates as a camera-axes rotation vector and a translation step (False: x_gt - x_t added, the paper's)."""
    warm_start: bool = True
    """Each step's network starts from the previous step's trained weights instead of from scratch."""
    variants: int = bounded(3, 0, 20)
    """Deformed and combined variants of every training mesh added to the training set (engine/shape_variety)."""

    FLAGS: ClassVar[dict[str, str]] = {**TrainConfig.FLAGS, "image_size": "--size"}

    def __post_init__(self) -> None:
        super().__post_init__()
        self.network()  # its own checks (an image size divisible by 32), before any work

    @property
    def solver_name(self) -> str:
        if not self.feedback:
            return "regression"
        return "feedback-shared" if self.shared else "feedback"

    def network(self) -> NetworkConfig:
        return NetworkConfig(image_size=self.image_size, feedback=self.feedback, width=self.width, hidden=self.hidden,
                             relative_update=self.relative_update)


def update_target(x: torch.Tensor, ground_truth: torch.Tensor, relative: bool) -> torch.Tensor:
    """The update that takes x_t to x_gt: relative, (rotation vector of q_gt q_t^-1, t_gt - t_t) (B, 6);
    additive, x_gt - x_t (B, 7) with the ground-truth quaternion's sign nearest to x_t (q and -q are one
    rotation)."""
    if relative:
        turn = quaternion_multiply(ground_truth[:, :4], quaternion_conjugate(normalize_quaternion(x[:, :4])))
        return torch.cat([quaternion_to_rotation_vector(turn), ground_truth[:, 4:] - x[:, 4:]], dim=1)
    sign = torch.where((x[:, :4] * ground_truth[:, :4]).sum(1, keepdim=True) < 0, -1.0, 1.0)
    return torch.cat([sign * ground_truth[:, :4], ground_truth[:, 4:]], dim=1) - x


def apply_update(x: torch.Tensor, update: torch.Tensor, relative: bool) -> torch.Tensor:
    """x_{t+1}: relative, q_{t+1} = exp(update[:3]) q_t and t_{t+1} = t_t + update[3:]; additive, x_t + update
    with the quaternion renormalised."""
    if relative:
        turned = quaternion_multiply(quaternion_from_rotation_vector(update[:, :3]), x[:, :4])
        return torch.cat([normalize_quaternion(turned), x[:, 4:] + update[:, 3:]], dim=1)
    moved = x + update
    return torch.cat([normalize_quaternion(moved[:, :4]), moved[:, 4:]], dim=1)


@dataclass
class Pose6DTask:
    """Training and validation meshes, and what the checkpoint records about them (`training_set`)."""

    config: Pose6DTrainConfig
    train_meshes: list[Mesh]
    validation_meshes: list[Mesh]
    training_set: dict[str, Any]
    network_class = UpdateNetwork

    @property
    def solver_name(self) -> str:
        return self.config.solver_name

    @property
    def problem_config(self) -> Pose6DConfig:
        return replace(Pose6DConfig(), image_size=self.config.image_size)

    def new_network(self) -> UpdateNetwork:
        return UpdateNetwork(self.config.network())

    def training_data(self, samples: int, shard: tuple[int, int], progress: Callable[[int], None]) -> PoseDataset:
        return make_pose_dataset(self.train_meshes, samples, self.config.seed, self.problem_config, shard=shard,
                                 progress=progress)

    def validation_data(self) -> PoseDataset:
        return make_pose_dataset(self.validation_meshes, self.config.validation_samples, self.config.seed + 1,
                                 self.problem_config)

    def initial(self, data: PoseDataset) -> torch.Tensor:
        return identity_poses(len(data))

    def stage_data(self, data: PoseDataset, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        stage = {"observations": data.observations, "x": x.clone(), "target": update_target(x, data.ground_truth,
                                                                                  self.config.relative_update)}
        if self.config.feedback:
            stage["renderings"] = data.render(x, progress)
        return stage

    def prepare(self, network: UpdateNetwork, data: StageData) -> None:
        if not (network.update_scale != 1).any():  # a shared network keeps the units of its first stage
            network.update_scale.copy_(data["target"].std(dim=0).clamp(min=1e-4))

    @staticmethod
    def _update(network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        renderings = batch["renderings"].float() if "renderings" in batch else None
        return network(batch["observations"].float(), renderings, batch["x"])

    def loss(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        scale = self.network_scale(network)
        return torch.nn.functional.mse_loss(self._update(network, batch) / scale, batch["target"] / scale)

    @staticmethod
    def network_scale(network: Any) -> torch.Tensor:
        return getattr(network, "module", network).update_scale

    def advance(self, network: UpdateNetwork, batch: StageData) -> torch.Tensor:
        return apply_update(batch["x"], self._update(network, batch), self.config.relative_update)

    def validation_metrics(self, data: PoseDataset, x: torch.Tensor) -> dict[str, float]:
        problem = data.problem(torch.arange(len(data)))
        empty = torch.zeros(len(data), 1, 1)
        result = problem.metrics(x, empty, empty, data.ground_truth)
        return {
            "rotation_error_mean": float(result["rotation_error_deg"].mean()),
            "rotation_error_median": float(result["rotation_error_deg"].median()),
            "translation_error_mean": float(result["translation_error"].mean()),
            "translation_error_median": float(result["translation_error"].median()),
            "outlier_percent": float(100 * result["outlier"].mean()),
        }

    def describe(self, metrics: dict[str, float]) -> str:
        return (f"rotation error {metrics['rotation_error_mean']:.2f} deg mean, "
                f"{metrics['rotation_error_median']:.2f} median; translation {metrics['translation_error_mean']:.3f}; "
                f"outliers {metrics['outlier_percent']:.1f}%")

    def meta(self) -> dict[str, Any]:
        return {"image_size": self.config.image_size, "training_set": self.training_set}
