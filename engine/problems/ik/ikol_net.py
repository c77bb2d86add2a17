"""IKOL's learned pipeline for the ik problem (`ikol-net`): a network predicts each swing joint's twist from the
target joints, IKOL's Gauss-Newton layer solves the swing angles, and the two are trained end to end through the
layer's 5 iterations with each Jacobian constant in backward (IKOL's GN-Diff).

IKOL's regression branch also predicts the 3D joints and the body shape from an image; here the target joints
are the observation and the skeleton is known, so the twist is all the network has to give the layer. The
network reads the targets in the frame of the pelvis rotation the layer computes in closed form from them, so
its twists do not depend on which way the body faces. Loss, IKOL's Eq. 4 and 6 for what is learned here:
the L1 distance of the layer's local rotations to the true ones (swing joints and pelvis) plus twist_weight
times the L2 distance of the predicted (cos, sin) twists to the true ones.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from ...bodies.skeleton import NUM_JOINTS
from ...learn.train import StageData
from ..spec import bounded, check_config
from . import kinematics
from .ikol import DAMPING, ITERATIONS, NUM_SWING, SWING_JOINTS, ikol_layer, pelvis_rotation, swing_twist, twist_cos_sin
from .networks import POSITION_SCALE, mlp
from .training import IKTask, IKTrainingSettings, PoseSet

FITTED_JOINTS = (0,) + SWING_JOINTS
"""The joints whose rotations the layer sets: the pelvis (closed form) and the swing joints."""


@dataclass(frozen=True)
class TwistNetworkConfig:
    """Shape of the twist MLP; stored in checkpoints so they rebuild exactly."""

    feedback: bool = False
    """Always False: the twist is predicted once, from the targets alone."""
    hidden: int = bounded(512, 1, 4096)
    layers: int = bounded(2, 1, 8)

    def __post_init__(self) -> None:
        check_config(self, label=str)
        if self.feedback:
            raise ValueError("the twist network reads the targets alone (feedback must be false)")

    def to_dict(self) -> dict:
        return asdict(self)


class TwistNetwork(nn.Module):
    """Target joints (B, 24, 3) to (cos, sin) twists (B, 18, 2) of the swing joints; starts at zero twist."""

    problem = "ik"
    architecture = "twist-mlp"
    config_class = TwistNetworkConfig

    def __init__(self, config: TwistNetworkConfig):
        super().__init__()
        self.config = config
        self.mlp = mlp(3 * NUM_JOINTS, config.hidden, config.layers, torch.tensor([1.0, 0.0]).repeat(NUM_SWING))

    def forward(self, targets: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
        if targets.ndim != 3 or targets.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"the twist network reads target joints (B, {NUM_JOINTS}, 3), got {tuple(targets.shape)}")
        relative = targets - targets[:, :1]
        pelvis = pelvis_rotation(relative, rest_joints)
        canonical = relative @ pelvis  # row vectors times R are R^T p: the targets in the pelvis' frame
        return self.mlp(POSITION_SCALE * canonical.reshape(targets.shape[0], -1)).reshape(-1, NUM_SWING, 2)


@dataclass(frozen=True)
class IKOLNetTrainConfig(IKTrainingSettings):
    """Settings of an ikol-net training run (`feedbacklab train ik --solver ikol-net`)."""

    steps: int = bounded(1, 1, 1)
    """One stage: the twist is predicted once."""
    feedback: bool = False
    samples: int = bounded(100_000, 2, 10_000_000)
    """Training poses."""
    epochs: int = bounded(4, 1, 1000)
    hidden: int = bounded(512, 1, 4096)
    layers: int = bounded(2, 1, 8)
    twist_weight: float = bounded(1.0, 0.0, 1e6)
    """Weight of the twist term (L2 of (cos, sin)) against the rotation term (L1 of the matrices)."""
    damping: float = bounded(DAMPING, 0.0, 1e6, low_open=True)
    """IKOL's u."""
    iterations: int = bounded(ITERATIONS, 1, 50)
    """Gauss-Newton iterations trained through (IKOL: 5)."""

    solver_name: ClassVar[str] = "ikol-net"

    def network(self) -> TwistNetworkConfig:
        return TwistNetworkConfig(hidden=self.hidden, layers=self.layers)


IKOLNetTrainConfig.FLAGS = {f.name: "--" + f.name.replace("_", "-") for f in fields(IKOLNetTrainConfig)}


@dataclass
class IKOLNetTask(IKTask):
    """The twist network trained through IKOL's layer; training and validation poses as the other ik tasks'."""

    config: IKOLNetTrainConfig  # type: ignore[assignment]
    network_class: ClassVar[type] = TwistNetwork

    @property
    def solver_name(self) -> str:
        return IKOLNetTrainConfig.solver_name

    def new_network(self) -> TwistNetwork:  # type: ignore[override]
        return TwistNetwork(self.config.network())

    def stage_data(self, data: PoseSet, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        twist = twist_cos_sin(swing_twist(data.poses, self.rest_joints)[1])
        if progress is not None:
            progress(len(x))
        return {"x": x.clone(), "truth": data.poses, "targets": data.targets, "twist": twist}

    def _layer(self, network: Callable[..., torch.Tensor], batch: StageData, constant_jacobian: bool):
        twist = network(batch["targets"], self.rest_joints.to(batch["targets"]))
        result = ikol_layer(batch["targets"], twist, self.rest_joints.to(batch["targets"]), self.config.damping,
                            self.config.iterations, constant_jacobian=constant_jacobian)
        return twist, result

    def loss(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        twist, result = self._layer(network, batch, constant_jacobian=True)
        fitted = list(FITTED_JOINTS)
        truth = kinematics.rotations_from_x(batch["truth"])[:, fitted]
        rotation = (result.rotations()[:, fitted] - truth).abs().sum((-1, -2)).mean()
        unit = twist / twist.norm(dim=-1, keepdim=True).clamp(min=1e-6)
        return rotation + self.config.twist_weight * (unit - batch["twist"]).square().sum(-1).mean()

    def advance(self, network: TwistNetwork, batch: StageData) -> torch.Tensor:  # type: ignore[override]
        return self._layer(network, batch, constant_jacobian=False)[1].x()

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "ikol": {"damping": self.config.damping, "iterations": self.config.iterations}}
