"""3D human pose from 2D joints (Wibergian learning, Sec. 5; Tome et al.'s model): a 17-joint skeleton's pose,
facing and position from its detected joints in one calibrated camera or four.

x (B, 52), Euclidean: yaw, root (3), pose (48) (data.py). The observation (B, C, 17, 2) holds the detected joints
in pixels of each of the C cameras (cameras.py). The forward process is the simulation: each joint projected
through its camera where the detector finds it (data.DETECTOR_OFFSETS), plus this item's draws of detector noise
and outliers (data.nuisance, made in `make` from the config's detector_seed), so forward(x) is the detection the
simulation would make if x were the truth. The cameras project by weak perspective, the model of Tome et al.'s
energy (model.py), so the energy's camera is exact: what separates its minimum from the truth is the detector
(its noise, outliers and keypoints that are not the skeleton's joints), the depth one view cannot see, and how
well the energy's weights (config `energy`) deal with them. The energy reads the observation and x, not the
prediction.

Metrics: MPJPE (mm) of the 17 joints against the truth with both roots at the origin (Human3.6M's protocol 1, the
pelvis counted with its zero error), and the reprojection error (px): the mean distance from each detected joint
to the energy's projection of x.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from ..spec import ArraySpec, bounded, check_config
from . import model
from .cameras import MAX_CAMERAS, TARGET
from .data import CATEGORIES, DETECTOR_OFFSETS, X_DIM, canonical_poses, category_poses, nuisance, place
from .skeleton import JOINT_NAMES, NUM

CAMERA_CHOICES = (1, MAX_CAMERAS)
PARAMETER_NAMES = ("yaw", "root.x", "root.y", "root.z") + tuple(
    f"{joint}.{axis}" for joint in JOINT_NAMES[1:] for axis in "xyz")
MAX_FRAMES = 100_000
OBSERVATION = ArraySpec(("C", NUM, 2), "detected 2D joints in pixels, per camera (C: 1 or 4), Human3.6M's order",
                        max_size=MAX_CAMERAS, max_items=MAX_FRAMES)


@dataclass(frozen=True)
class Pose2DConfig:
    """The rig, the detector's simulation and the energy."""

    cameras: int = bounded(4, 1, MAX_CAMERAS)
    """1 (monocular: the first camera) or 4 calibrated cameras around the subject."""
    energy: str = "trained"
    """The energy's weights: trained (the shipped assets/wibergian/pose-from-2d-mono or -multi.safetensors),
    untrained (the PPCA bases fitted on the training poses, hand-set Huber and weights) or a file made by
    `feedbacklab train pose-from-2d --out FILE`."""
    noise_px: float = bounded(5.0, 0.1, 100.0)
    """The detector's nominal pixel noise (standard deviation; each joint and camera scales it), also the
    energy's nominal noise."""
    outlier_rate: float = bounded(0.05, 0.0, 0.5)
    """Share of detected joints that are outliers (40-150 px off)."""
    poses: str = "sampler"
    """Where random ground truths come from: sampler (the ik test split), library, walk (the walk cycle) or cmu."""
    detector_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the detector's noise and outliers (one draw per item of a batch)."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.cameras not in CAMERA_CHOICES:
            raise ValueError(f"--cameras {self.cameras}: choose 1 (monocular) or {MAX_CAMERAS}")
        if self.poses not in CATEGORIES:
            raise ValueError(f"--poses {self.poses!r}: choose one of {', '.join(CATEGORIES)}")


@dataclass(frozen=True, eq=False)
class PoseFrom2DProblem:
    """A batch of instances: the detector's draws (B, C, 17, 2) and the energy's weights."""

    config: Pose2DConfig
    weights: dict[str, torch.Tensor]
    perturbation: torch.Tensor
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = X_DIM

    @property
    def batch_size(self) -> int:
        return len(self.perturbation)

    @property
    def cameras(self) -> int:
        return self.config.cameras

    def subset(self, index: torch.Tensor) -> "PoseFrom2DProblem":
        return replace(self, perturbation=self.perturbation[index.to(self.perturbation.device)])

    def with_weights(self, weights: dict[str, torch.Tensor]) -> "PoseFrom2DProblem":
        """The same instances under another energy."""
        return replace(self, weights=weights)

    def _check_x(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != X_DIM:
            raise ValueError(f"pose-from-2d estimates must have shape (B, {X_DIM}): yaw, root (3), pose (48); got "
                             f"{tuple(x.shape)}")

    def _check_observation(self, observation: torch.Tensor) -> None:
        if observation.ndim != 4 or observation.shape[1] != self.cameras:
            raise ValueError(f"the observation holds {observation.shape[1] if observation.ndim == 4 else '?'} "
                             f"camera(s)' joints, this problem has --cameras {self.cameras}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 17, 2) the simulated detections of x's joints (module docstring)."""
        self._check_x(x)
        return model.project(x, self.cameras, DETECTOR_OFFSETS) + self.perturbation.to(x)

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the energy of x given the detections (model.energy)."""
        self._check_x(x)
        self._check_observation(observation)
        return model.energy(x, observation.to(x), self._weights(x), self.config.noise_px)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, R): energy == residuals.square().sum(1) (model.residuals)."""
        self._check_x(x)
        self._check_observation(observation)
        return model.residuals(x, observation.to(x), self._weights(x), self.config.noise_px)

    def linearize(self, x: torch.Tensor, observation: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The prediction, the residuals and their Jacobian (B, R, 52) in one pass (model.linearize)."""
        self._check_observation(observation)
        return (self.forward(x), *model.linearize(x, observation.to(x), self._weights(x), self.config.noise_px))

    def _weights(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: value.to(x) for name, value in self.weights.items()}

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,): the reprojection error in px (to the energy's projection, with its joint offsets) and, with
        the truth, the MPJPE in mm."""
        projected = model.project(x, self.cameras, self._weights(x)["joint_offsets"])
        result = {"reprojection_px": (projected - observation.to(x)).norm(dim=-1).mean((1, 2))}
        if ground_truth is not None:
            result["mpjpe_mm"] = mpjpe_mm(x, ground_truth.to(x))
        return result

    def initial_estimate(self) -> torch.Tensor:
        """(B, 52): facing +z, the root at the rig's target, the training poses' mean pose."""
        x0 = torch.cat([torch.zeros(1), torch.tensor(TARGET), model.mean_pose()])
        return x0.expand(self.batch_size, -1).clone().to(self.device)

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 52) ground truths: poses of the config's source (sampler: fresh ones; the others: drawn from
        theirs), each with a random yaw and root (data.place)."""
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        if self.config.poses == "sampler":
            poses = category_poses("sampler", self.batch_size, seed)
        else:
            poses = category_poses(self.config.poses)
            poses = poses[torch.randint(len(poses), (self.batch_size,), generator=generator)]
        return place(canonical_poses(poses), generator).to(self.device)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx


def mpjpe_mm(x: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(B,) mean per-joint position error in mm of the 17 joints, both roots at the origin."""
    return 1000.0 * (model.turned_joints(x) - model.turned_joints(truth)).norm(dim=-1).mean(1)


def make_problem(config: Pose2DConfig, batch_size: int = 1, device: torch.device | str = "cpu",
                 weights: dict[str, torch.Tensor] | None = None) -> PoseFrom2DProblem:
    """A batch under the config's energy (or these weights), with the detector's draws of its seed."""
    generator = torch.Generator().manual_seed(config.detector_seed)
    drawn = nuisance(batch_size, config.cameras, config.noise_px, config.outlier_rate, generator)
    weights = model.energy_weights(config.energy, config.cameras) if weights is None else weights
    device = torch.device(device)
    return PoseFrom2DProblem(config, {k: v.to(device) for k, v in weights.items()}, drawn.to(device), device)
