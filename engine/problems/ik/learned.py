"""The ik problem's learned solvers on the iteration interface: the deep feedback network (per-step or shared)
and Deep6D. Each step runs forward kinematics on x_t (the feedback), the step's network predicts the rotations
x_{t+1}; record t holds x_t, its joints and the problem's energy, so the app steps through them like any
optimizer's."""
from __future__ import annotations

import torch

from ...learn.checkpoint import CheckpointError
from ...learn.solver import CheckpointSolver, LearnedSolverParams
from ...solvers.base import StepResult
from . import kinematics
from .networks import JointNetwork

SKELETON_TOLERANCE = 1e-3
"""Metres: rest joints further than this from the trained skeleton's make a different skeleton."""


class IKLearnedSolver(CheckpointSolver):
    """Updates of the joint MLPs of one checkpoint."""

    problem = "ik"
    kinds = {"feedback": (JointNetwork, True), "feedback-shared": (JointNetwork, True),
             "deep6d": (JointNetwork, False)}

    def __init__(self, params: LearnedSolverParams | None = None, device: torch.device | str = "cpu"):
        super().__init__(params or LearnedSolverParams(), device)

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        check_skeleton(self.checkpoint.meta, self.checkpoint_path, problem.rest_joints)
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        if iteration >= self.params.max_iterations:
            return StepResult(prediction, energy, x)
        network = self.network(iteration, x.device)
        with torch.no_grad():
            if self.feedback:
                rotations = network(observation, prediction, kinematics.rotations_from_x(x))
            else:
                rotations = network(observation, None, None)
        return StepResult(prediction, energy, kinematics.x_from_rotations(rotations))


def check_skeleton(meta: dict, path: str, rest_joints: torch.Tensor) -> None:
    """CheckpointError unless the checkpoint was trained on this skeleton (joint count and rest joints)."""
    skeleton = meta.get("skeleton")
    if not isinstance(skeleton, dict) or skeleton.get("joints") != rest_joints.shape[0]:
        joints = skeleton.get("joints") if isinstance(skeleton, dict) else "an unknown number of"
        raise CheckpointError(f"{path}: trained on a skeleton of {joints} joints, not this problem's "
                              f"{rest_joints.shape[0]}; train one for it with `feedbacklab train ik`")
    try:
        trained = torch.tensor(skeleton["rest_joints"], dtype=rest_joints.dtype, device=rest_joints.device)
    except (TypeError, ValueError, KeyError):
        raise CheckpointError(f"{path}: damaged checkpoint header (its skeleton's rest joints)") from None
    if trained.shape != rest_joints.shape:
        raise CheckpointError(f"{path}: damaged checkpoint header (its skeleton's rest joints)")
    gap = float((trained - rest_joints).norm(dim=-1).max())
    if gap > SKELETON_TOLERANCE:
        raise CheckpointError(f"{path}: trained on another skeleton (rest joints up to {100 * gap:.1f} cm from this "
                              "problem's); solve with the --betas it was trained on, or train one with "
                              "`feedbacklab train ik --betas ...`")
