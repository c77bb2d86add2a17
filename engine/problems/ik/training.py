"""The ik problem's learned solvers as tasks of the stage-wise trainer (engine.learn.train).

Training poses: the train split (the pose library, the walk cycle and joint-limit sampler poses), the frames of
the motion-capture clips of data.TRAIN_MOTIONS when installed (never the CMU test clips), each given a random
root rotation (a heading about the vertical and a tilt of up to ROOT_TILT_DEG), since real motion turns the
whole body and the sampler never does. Validation: the val split's sampler poses.

The feedback and Deep6D networks are trained with the paper's loss, L2 on joint positions and on rotations:
mean squared joint error in cm^2 plus rotation_weight times the mean squared Frobenius distance of the local
rotation matrices over the joints with children (a leaf's rotation moves no joint and cannot be learned).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar

import torch

from ...bodies import BETA_LIMIT
from ...bodies.skeleton import NUM_JOINTS
from ...learn.checkpoint import MAX_STEPS
from ...learn.train import StageData, TrainConfig
from ...rotations import axis_angle_to_matrix, matrix_to_axis_angle
from ..spec import bounded
from . import kinematics
from .networks import JointNetwork, JointNetworkConfig
from .problem import CM, POSED_JOINTS

ROOT_TILT_DEG = 20.0
FK_CHUNK = 4096
LEARNED_KINDS = {"feedback": (True, False), "feedback-shared": (True, True), "deep6d": (False, False)}
"""Each joint-MLP solver's (feedback, shared)."""


@dataclass(frozen=True)
class IKTrainingSettings(TrainConfig):
    """What every ik training run has beyond the trainer's settings: its skeleton, validation and optimiser."""

    validation_samples: int = bounded(1000, 1, 100_000)
    """Validation poses (the val split)."""
    batch_size: int = bounded(256, 2, 4096)
    learning_rate: float = bounded(1e-3, 0.0, 1.0, low_open=True)
    betas: tuple = bounded((), -BETA_LIMIT, BETA_LIMIT)
    """Shape coefficients of the default body whose rest joints are the skeleton trained on."""


@dataclass(frozen=True)
class IKTrainConfig(IKTrainingSettings):
    """Settings of a feedback or Deep6D training run (the `feedbacklab train ik` flags)."""

    steps: int = bounded(3, 1, MAX_STEPS)
    """Feedback steps (stages), the paper's 3; Deep6D has one."""
    samples: int = bounded(320_000, 2, 10_000_000)
    """Training poses per stage."""
    epochs: int = bounded(4, 1, 1000)
    hidden: int = bounded(1024, 1, 4096)
    """Width of the MLP's hidden layers (Deep6D's 1024)."""
    layers: int = bounded(3, 1, 8)
    """Hidden layers of the MLP (Deep6D's 3)."""
    rotation_weight: float = bounded(1000.0, 0.0, 1e6)
    """Weight of the rotation term (squared Frobenius distance) against the joint term in cm^2: 1000 makes a
    1 degree error weigh about as much as a 1 cm one."""

    @property
    def solver_name(self) -> str:
        return next(name for name, kind in LEARNED_KINDS.items() if kind == (self.feedback, self.shared))

    def network(self) -> JointNetworkConfig:
        return JointNetworkConfig(feedback=self.feedback, hidden=self.hidden, layers=self.layers)


IKTrainConfig.FLAGS = {f.name: "--" + f.name.replace("_", "-") for f in fields(IKTrainConfig)}


@dataclass
class PoseSet:
    """Poses (N, 72) and their joints (N, 24, 3) on the task's skeleton."""

    poses: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return len(self.poses)


def with_random_roots(poses: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """poses (N, 24, 3) with the root rotation turned by a random heading about +y and a tilt of up to
    ROOT_TILT_DEG about a random horizontal axis, applied on the left (in the world frame)."""
    n = poses.shape[0]
    heading = (torch.rand(n, generator=generator) * 2 - 1) * math.pi
    tilt_axis = torch.rand(n, generator=generator) * 2 * math.pi
    tilt = torch.rand(n, generator=generator) * math.radians(ROOT_TILT_DEG)
    yaw = torch.stack([torch.zeros(n), heading, torch.zeros(n)], 1)
    lean = torch.stack([tilt_axis.cos(), torch.zeros(n), tilt_axis.sin()], 1) * tilt[:, None]
    root = axis_angle_to_matrix(lean) @ axis_angle_to_matrix(yaw) @ axis_angle_to_matrix(poses[:, 0])
    return torch.cat([matrix_to_axis_angle(root).reshape(n, 1, 3), poses[:, 1:]], dim=1)


def joints_of(poses: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """(N, 24, 3) forward kinematics of poses (N, 72), in chunks."""
    with torch.no_grad():
        return torch.cat([kinematics.forward_kinematics(kinematics.rotations_from_x(part), rest_joints)
                          for part in poses.split(FK_CHUNK)]) if len(poses) else poses.new_zeros(0, NUM_JOINTS, 3)


@dataclass
class IKTask:
    """The feedback (per-step or shared) and Deep6D networks on one skeleton."""

    config: IKTrainConfig
    rest_joints: torch.Tensor
    """(24, 3) the skeleton trained on."""
    network_class: ClassVar[type] = JointNetwork

    @property
    def solver_name(self) -> str:
        return self.config.solver_name

    def new_network(self) -> JointNetwork:
        return JointNetwork(self.config.network())

    def training_data(self, samples: int, shard: tuple[int, int], progress: Callable[[int], None]) -> PoseSet:
        from .data import training_poses

        rank, world = shard
        poses = training_poses(samples, self.config.seed)
        generator = torch.Generator().manual_seed(self.config.seed)
        poses = with_random_roots(poses, generator).reshape(samples, -1)[rank::world].contiguous()
        targets = joints_of(poses, self.rest_joints)
        progress(len(poses))
        return PoseSet(poses, targets)

    def validation_data(self) -> PoseSet:
        from .data import split_poses

        poses = split_poses("val", self.config.validation_samples, self.config.seed).reshape(-1, 3 * NUM_JOINTS)
        return PoseSet(poses, joints_of(poses, self.rest_joints))

    def initial(self, data: PoseSet) -> torch.Tensor:
        return torch.zeros_like(data.poses)

    def stage_data(self, data: PoseSet, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        stage = {"x": x.clone(), "truth": data.poses, "targets": data.targets}
        if self.config.feedback:
            stage["predictions"] = joints_of(x, self.rest_joints)
        if progress is not None:
            progress(len(x))
        return stage

    def prepare(self, network: JointNetwork, data: StageData) -> None:
        pass

    def _rotations(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        if not self.config.feedback:
            return network(batch["targets"], None, None)
        return network(batch["targets"], batch["predictions"], kinematics.rotations_from_x(batch["x"]))

    def loss(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        rotations = self._rotations(network, batch)
        joints = kinematics.forward_kinematics(rotations, self.rest_joints.to(rotations))
        position = (CM * (joints - batch["targets"])).square().sum(-1).mean()
        truth = kinematics.rotations_from_x(batch["truth"])
        posed = list(POSED_JOINTS)
        rotation = (rotations[:, posed] - truth[:, posed]).square().sum((-1, -2)).mean()
        return position + self.config.rotation_weight * rotation

    def advance(self, network: JointNetwork, batch: StageData) -> torch.Tensor:
        return kinematics.x_from_rotations(self._rotations(network, batch))

    def validation_metrics(self, data: PoseSet, x: torch.Tensor) -> dict[str, float]:
        return pose_errors(x, data.poses, data.targets, self.rest_joints)

    def describe(self, metrics: dict[str, float]) -> str:
        return (f"position error {metrics['position_error_mean']:.2f} cm mean, "
                f"{metrics['position_error_median']:.2f} median; rotation error {metrics['rotation_error_mean']:.2f} "
                f"deg mean, {metrics['rotation_error_median']:.2f} median")

    def meta(self) -> dict[str, Any]:
        return {"training_set": training_set_description(self.config), "skeleton": skeleton_meta(self.rest_joints)}


def pose_errors(x: torch.Tensor, truth: torch.Tensor, targets: torch.Tensor,
                rest_joints: torch.Tensor) -> dict[str, float]:
    """Mean and median joint position error (cm) and rotation error (degrees, joints with children)."""
    joints = joints_of(x, rest_joints)
    position = CM * (joints - targets).norm(dim=-1).mean(1)
    angle = kinematics.geodesic_angle(kinematics.rotations_from_x(x), kinematics.rotations_from_x(truth))
    rotation = torch.rad2deg(angle[:, list(POSED_JOINTS)]).mean(1)
    return {"position_error_mean": float(position.mean()), "position_error_median": float(position.median()),
            "rotation_error_mean": float(rotation.mean()), "rotation_error_median": float(rotation.median())}


def skeleton_meta(rest_joints: torch.Tensor) -> dict[str, Any]:
    """What a checkpoint records of the skeleton it was trained on (checked by the learned solvers)."""
    return {"joints": int(rest_joints.shape[0]),
            "rest_joints": [[round(float(v), 6) for v in joint] for joint in rest_joints]}


def training_set_description(config: IKTrainConfig) -> dict[str, Any]:
    from .data import TRAIN_MOTIONS, training_motion_clips

    return {"poses": "train split (pose library, walk cycle, joint-limit sampler) and motion capture, random "
                     f"root headings and tilts up to {ROOT_TILT_DEG:g} deg",
            "motions": [path.name for path in training_motion_clips()] or f"none installed ({TRAIN_MOTIONS})",
            "samples": config.samples, "seed": config.seed, "validation": "val split"}
