"""Tome et al.'s fit as a closed-form solver ("search"): a search over yaws with the pose solved in closed form.

For each of `yaws` yaws evenly round the circle and each of the mixture's models, the least-squares (L2) energy
with that model's prior is quadratic in the pose once the root is fixed, so the pose is one linear solve; the
root is then moved by a Gauss-Newton step on the same L2 energy (its depth sets the weak-perspective scale), and
the two alternate. The candidate of least full energy (Huber, the mixture) is the estimate: the search that
Tome et al. make over rotations and models, as a start for the iterative solvers on the full energy.

The first root is the pelvis's detections': with several cameras the point nearest their rays, with one the
point on its ray at the depth where the training poses have the detections' spread on average (model.pose_spread).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...solvers.base import IterativeSolver, SolverParams, StepResult
from . import model
from .cameras import IMAGE, MIN_DEPTH
from .skeleton import NUM, yaw_matrix

YAWS = 8
ALTERNATIONS = 2
_FLIP = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
"""Camera x, y to pixel u, v directions (v grows downwards)."""


def _rays(pixels: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """(B, C, 3) camera-space directions (z = -1) through pixels (B, C, 2)."""
    x = (pixels[..., 0] - 0.5 * IMAGE.width) / IMAGE.focal
    y = -(pixels[..., 1] - 0.5 * IMAGE.height) / IMAGE.focal
    return torch.stack([x, y, -torch.ones_like(x)], -1)


def first_root(observation: torch.Tensor, rotations: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(B, 3) the root the search starts from (module docstring)."""
    rays = _rays(observation[:, :, 0], rotations)
    if observation.shape[1] == 1:
        spread = (observation - observation[:, :, :1]).square().sum(-1).mean(-1).sqrt()[:, 0]
        size = model.pose_spread().to(observation)
        depth = (IMAGE.focal * size / spread.clamp(min=1.0)).clamp(min=MIN_DEPTH)
        return centres[0] + (depth[:, None] * rays[:, 0]) @ rotations[0]
    directions = torch.nn.functional.normalize(torch.einsum("bci,cij->bcj", rays, rotations), dim=-1)  # world
    across = torch.eye(3, dtype=observation.dtype, device=observation.device) - directions[..., :, None] * \
        directions[..., None, :]
    return torch.linalg.solve(across.sum(1), (across @ centres[None, :, :, None]).sum(1)).squeeze(-1)


def _pose_solve(observation: torch.Tensor, yaw: torch.Tensor, root: torch.Tensor, weights: dict[str, torch.Tensor],
                joint_weights: torch.Tensor, precision: torch.Tensor, mean: torch.Tensor, rotations: torch.Tensor,
                centres: torch.Tensor) -> torch.Tensor:
    """(n, 48) the pose minimising the L2 data term (weights (C, 17) per squared pixel, the energy's joint
    offsets) plus the Gaussian prior (precision (n, 48, 48), mean (n, 48)) at this yaw and root."""
    camera_root = torch.einsum("cji,nci->ncj", rotations, root[:, None] - centres[None])  # (n, C, 3)
    scale = IMAGE.focal / (-camera_root[..., 2]).clamp(min=MIN_DEPTH)
    origin = torch.stack([0.5 * IMAGE.width + scale * camera_root[..., 0],
                          0.5 * IMAGE.height - scale * camera_root[..., 1]], -1)  # the root's pixels (n, C, 2)
    linear = scale[..., None, None] * (_FLIP.to(rotations) @ rotations)[None] @ yaw_matrix(yaw)[:, None]  # (n,C,2,3)
    per_joint = joint_weights[None, :, 1:, None, None]  # (1, C, 16, 1, 1)
    blocks = (per_joint * (linear.transpose(-1, -2) @ linear)[:, :, None]).sum(1)  # (n, 16, 3, 3)
    shifts = (linear[:, :, None] @ weights["joint_offsets"][1:, :, None])[..., 0]  # (n, C, 16, 2)
    targets = observation[:, :, 1:] - origin[:, :, None] - shifts
    gradient = (per_joint[..., 0] * (linear.transpose(-1, -2)[:, :, None] @ targets[..., None])[..., 0]).sum(1)
    eye = torch.eye(NUM - 1, dtype=root.dtype, device=root.device)
    block_diagonal = (blocks[:, :, :, None, :] * eye[None, :, None, :, None]).reshape(precision.shape)
    system = precision + block_diagonal
    rhs = gradient.flatten(1) + (precision @ mean[..., None])[..., 0]
    return torch.linalg.solve(system, rhs)


def _root_step(observation: torch.Tensor, yaw: torch.Tensor, root: torch.Tensor, pose: torch.Tensor,
               joint_weights: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """root + one Gauss-Newton step of the L2 data term over the root alone."""
    cameras = observation.shape[1]
    roots = joint_weights.sqrt()[None, ..., None]

    def residual(v: torch.Tensor) -> torch.Tensor:
        x = torch.cat([yaw[:, None], root + v.expand_as(root), pose], dim=1)
        return (roots * (observation - model.project(x, cameras, offsets))).flatten(1)

    jacobian = torch.func.jacfwd(residual)(root.new_zeros(3))  # (n, R, 3): items are independent
    r = residual(root.new_zeros(3))
    normal = jacobian.transpose(1, 2) @ jacobian + 1e-9 * torch.eye(3, dtype=root.dtype, device=root.device)
    return root - torch.linalg.solve(normal, (jacobian.transpose(1, 2) @ r[..., None])[..., 0])


def search(problem, observation: torch.Tensor, yaws: int = YAWS, alternations: int = ALTERNATIONS) -> torch.Tensor:
    """(B, 52) the search's estimate (module docstring) under the problem's energy."""
    weights = {name: value.to(observation) for name, value in problem.weights.items()}
    batch, cameras = observation.shape[:2]
    rotations, centres = model.camera_rig(cameras, observation.dtype, observation.device)
    models = weights["mean"].shape[0]
    candidates = yaws * models
    yaw = (torch.arange(yaws, dtype=observation.dtype, device=observation.device) * (2 * math.pi / yaws))
    yaw = yaw[:, None].expand(yaws, models).reshape(-1).repeat(batch)
    which = torch.arange(models, device=observation.device).repeat(batch * yaws)
    root = first_root(observation, rotations, centres).repeat_interleave(candidates, 0)
    repeated = observation.repeat_interleave(candidates, 0)
    joint_weights = (weights["log_camera_weights"][:, None] + weights["log_joint_weights"][None]).exp() / \
        problem.config.noise_px ** 2
    precision = model.prior_precisions(weights)[which]
    mean = weights["mean"][which]
    for _ in range(alternations):
        pose = _pose_solve(repeated, yaw, root, weights, joint_weights, precision, mean, rotations, centres)
        root = _root_step(repeated, yaw, root, pose, joint_weights, weights["joint_offsets"])
    pose = _pose_solve(repeated, yaw, root, weights, joint_weights, precision, mean, rotations, centres)
    x = torch.cat([yaw[:, None], root, pose], dim=1)
    energies = model.energy(x, repeated, weights, problem.config.noise_px).reshape(batch, candidates)
    energies = torch.nan_to_num(energies, nan=float("inf"))
    best = energies.argmin(1)
    return x.reshape(batch, candidates, -1)[torch.arange(batch, device=x.device), best]


@dataclass(frozen=True)
class SearchParams(SolverParams):
    """Settings of the search; its one step is the whole search."""

    max_iterations: int = 1
    """The search is one step; later iterations keep its estimate."""
    yaws: int = YAWS
    """Yaws tried, evenly round the circle."""
    alternations: int = ALTERNATIONS
    """Pose solves and root steps alternated at each yaw."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.yaws < 1 or self.alternations < 0:
            raise ValueError("the search needs yaws >= 1 and alternations >= 0")


class RotationSearch(IterativeSolver):
    """The closed-form search (module docstring) on the iteration interface: record 0 is the initial estimate,
    record 1 the search's estimate."""

    name = "search"
    params: SearchParams

    def __init__(self, params: SearchParams | None = None):
        super().__init__(params or SearchParams())

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def step(self, problem, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        with torch.no_grad():
            prediction = problem.forward(x)
            energy = problem.energy(prediction, observation, x)
            found = iteration > 0
            next_x = x if found else search(problem, observation, self.params.yaws, self.params.alternations)
        return StepResult(prediction, energy, next_x.to(x),
                          converged=torch.full((len(x),), found, dtype=torch.bool, device=x.device))

