"""Inverse kinematics of a human skeleton (Deep Feedback Inverse Problem Solver, Sec. 6).

x: one local rotation per joint of SMPL's 24-joint skeleton as axis-angle, flat (B, 72); the root's position is
fixed at the origin (the hip fixed, as in the paper), its rotation is estimated like any other joint's.
x (+) dx composes a local rotation increment per joint: exp(x_j) exp(dx_j). The observation is the target
joint positions (B, 24, 3) in metres, root at the origin; the forward process is forward kinematics over the
body's rest joints.

Energy, as the paper's optimization baselines: the squared joint position error in cm^2 (summed over joints)
plus prior_weight times the negative log-likelihood 0.5 |L^-1 (e - mu)|^2 of a Gaussian on each joint's Euler
angles fitted on the training poses (assets/ik/euler_prior.npz, scripts/fit_ik_prior.py). The data term is in
centimetres so that the paper's weight of 0.001 leaves the prior a regulariser: in metres it would outweigh
joint errors of several centimetres. The root's rotation has no prior (the training poses barely turn it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from ...bodies.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from ...bodies import BETA_LIMIT
from ..spec import ArraySpec, bounded, check_config
from . import kinematics
from .prior import EulerPrior, matrix_to_euler_xyz

CM = 100.0
POSED_JOINTS = tuple(j for j in range(NUM_JOINTS) if j in PARENTS)
"""Joints with children: a leaf's rotation (feet, head, hands) moves no joint, so no solver can recover it from
joint positions and the rotation error leaves it out."""
PARAMETER_NAMES = tuple(f"{joint}.{axis}" for joint in JOINT_NAMES for axis in ("rx", "ry", "rz"))
MAX_TARGETS = 100_000
"""The most target skeletons one observation holds (an hour of motion capture at 30 fps)."""
OBSERVATION = ArraySpec((NUM_JOINTS, 3), "target joint positions in metres, root at the origin",
                        max_items=MAX_TARGETS)


@dataclass(frozen=True)
class IKConfig:
    """The problem's constants; defaults follow the paper (prior weight 0.001)."""

    prior_weight: float = bounded(0.001, 0.0, 1e4)
    """Weight of the Euler-angle Gaussian prior against the squared joint error in cm^2."""
    betas: tuple = bounded((), -BETA_LIMIT, BETA_LIMIT)
    """Shape coefficients of the default body, comma-separated: its rest joints are the skeleton's."""
    frames: str = "100"
    """Frames of --motion to solve: N evenly spread over the clip, or START:STOP[:STEP]."""
    split: str = "test"
    """Where random ground truths come from without --motion: train, val, test (joint-limit sampler) or cmu."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.split not in ("train", "val", "test", "cmu"):
            raise ValueError(f"--split {self.split!r}: choose train, val, test or cmu")


@dataclass(frozen=True)
class IKProblem:
    """A batch of IK problems on one skeleton; `motion` (F, 24, 3) axis-angle poses are the ground truths the
    sampler draws from, when given."""

    rest_joints: torch.Tensor
    """(24, 3) the skeleton's rest joints, metres."""
    prior: EulerPrior
    config: IKConfig = IKConfig()
    size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    motion: torch.Tensor | None = None

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = 3 * NUM_JOINTS

    @property
    def batch_size(self) -> int:
        return self.size

    def subset(self, index: torch.Tensor) -> "IKProblem":
        return replace(self, size=int(index.numel()))

    def _check_x(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != 3 * NUM_JOINTS:
            raise ValueError(f"ik estimates must have shape (B, 72): axis-angle per joint, got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 24, 3) joint positions by forward kinematics, root at the origin; differentiable."""
        self._check_x(x)
        return kinematics.forward_kinematics(kinematics.rotations_from_x(x), self.rest_joints.to(x))

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def _prior_residuals(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 69) weighted so that their squares sum to prior_weight times the prior's energy (root left out)."""
        return math.sqrt(0.5 * self.config.prior_weight) * self.prior.whitened(x)[:, 3:]

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) squared joint position error in cm^2 plus the weighted prior."""
        data = (CM * (prediction - observation)).square().sum((1, 2))
        return data + self._prior_residuals(x).square().sum(1)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 72 + 69): joint errors in cm, then the prior's; energy == residuals.square().sum(1)."""
        data = CM * (self.forward(x) - observation).reshape(x.shape[0], -1)
        return torch.cat([data, self._prior_residuals(x)], dim=1)

    def linearize(self, x: torch.Tensor, observation: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The prediction (B, 24, 3), the residuals (B, 141) and their Jacobian (B, 141, 72) with respect to dx
        at x (+) dx, dx = 0, from one pass down the tree. The joints' Jacobian is analytic (kinematics); the
        prior's is block-diagonal, joint j's Euler angles depending on dx_j alone (euler_rate_inverse)."""
        self._check_x(x)
        rotations = kinematics.rotations_from_x(x)
        positions, globals_ = kinematics.chain(rotations, self.rest_joints.to(x))
        batch = x.shape[0]
        angles = matrix_to_euler_xyz(rotations)
        weight = math.sqrt(0.5 * self.config.prior_weight)
        prior = weight * self.prior.whitened_angles(angles)[:, 3:]  # as _prior_residuals, from these rotations
        residuals = torch.cat([CM * (positions - observation).reshape(batch, -1), prior], dim=1)
        blocks = weight * self.prior.inverse_cholesky[1:].to(x) @ euler_rate_inverse(angles[:, 1:])  # (B, 23, 3, 3)
        prior_jacobian = torch.zeros(batch, NUM_JOINTS - 1, 3, NUM_JOINTS, 3, dtype=x.dtype, device=x.device)
        joints = torch.arange(NUM_JOINTS - 1, device=x.device)
        prior_jacobian[:, joints, :, joints + 1, :] = blocks.transpose(0, 1)
        jacobian = torch.cat([CM * kinematics.jacobian_from_chain(positions, globals_),
                              prior_jacobian.reshape(batch, 3 * (NUM_JOINTS - 1), -1)], dim=1)
        return positions, residuals, jacobian

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,): mean joint position error in cm against the target; with ground truth also the mean
        geodesic angle between estimated and true local joint rotations (POSED_JOINTS), degrees."""
        result = {"position_error_cm": CM * (prediction - observation).norm(dim=2).mean(1)}
        if ground_truth is not None:
            angle = kinematics.geodesic_angle(kinematics.rotations_from_x(x), kinematics.rotations_from_x(ground_truth))
            result["rotation_error_deg"] = torch.rad2deg(angle[:, list(POSED_JOINTS)]).mean(1)
        return result

    def initial_estimate(self) -> torch.Tensor:
        """The rest pose (T-pose): zero rotations, (B, 72)."""
        return torch.zeros(self.batch_size, 3 * NUM_JOINTS, device=self.device)

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 72) poses: the motion's frames when a motion is loaded (all of them when the batch is as long,
        else frames drawn at random), otherwise poses of the config's split."""
        if self.motion is not None:
            poses = self.motion if len(self.motion) == self.batch_size else \
                self.motion[torch.randint(len(self.motion), (self.batch_size,), generator=generator)]
        else:
            from .data import split_poses

            seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
            poses = split_poses(self.config.split, self.batch_size, seed)
        return poses.reshape(self.batch_size, -1).float().to(self.device)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return kinematics.retract(x, dx)


def euler_rate_inverse(angles: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) d (a, b, c) / d w of intrinsic XYZ Euler angles of R exp(w) at w = 0, R = Rx(a) Ry(b) Rz(c).

    The body-frame angular velocity of R is w = M (a', b', c') with M's columns Rz(-c) Ry(-b) e_x, Rz(-c) e_y
    and e_z; M^-1 in closed form (singular at gimbal lock, cos b = 0, like the angles themselves)."""
    b, c = angles[..., 1], angles[..., 2]
    cos_b, sin_b, cos_c, sin_c = b.cos(), b.sin(), c.cos(), c.sin()
    zero = torch.zeros_like(b)
    rows = [torch.stack([cos_c, -sin_c, zero], -1),
            torch.stack([cos_b * sin_c, cos_b * cos_c, zero], -1),
            torch.stack([-sin_b * cos_c, sin_b * sin_c, cos_b], -1)]
    return torch.stack(rows, -2) / cos_b[..., None, None]
