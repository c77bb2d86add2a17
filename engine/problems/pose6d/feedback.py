"""Learned solvers: the deep feedback solver (per-step or shared update networks) and the deep regression
baseline. Each step renders the current estimate with pyrender (never differentiated), and the step's
network predicts the update: x_{t+1} = x_t + g^t(y, y_t, y - y_t, x_t), quaternion renormalised.

With `damped` (Sec. 3.3), the step tries x_t + lambda * g with lambda = 1, 1/2, 1/4, ... and takes the first
whose data energy is lower than x_t's (re-rendering only; the network runs once); after `max_halvings`
failed tries the item keeps x_t.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

import torch

from ...learn.checkpoint import check_fits, check_kind, load_checkpoint
from ...learn.train import apply_update
from ...silhouettes import silhouette_difference
from ...solvers.base import IterativeSolver, SolverParams, StepResult

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 3, "assets")
DEFAULT_CHECKPOINTS = {
    "feedback": "pose6d-feedback.safetensors",
    "feedback-shared": "pose6d-feedback-shared.safetensors",
    "regression": "pose6d-regression.safetensors",
}


def default_checkpoint(kind: str) -> str:
    """The shipped checkpoint of a learned solver kind."""
    return os.path.join(ASSETS, "checkpoints", DEFAULT_CHECKPOINTS[kind])


@dataclass(frozen=True)
class LearnedSolverParams(SolverParams):
    """Settings of a learned solver; max_iterations is taken from the checkpoint's number of steps."""

    kind: str = "feedback"
    """'feedback', 'feedback-shared' or 'regression'."""
    checkpoint: str | None = None
    """Path of a checkpoint (default: the shipped one for `kind`)."""
    damped: bool = False
    """Damped adaptive update (Sec. 3.3)."""
    max_halvings: int = 4
    """Damped update: tries of lambda = 1, 1/2, ... before keeping x_t."""
    steps: int | None = None
    """Run this many steps instead of the checkpoint's (a shared network can run longer)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind not in DEFAULT_CHECKPOINTS:
            raise ValueError(f"unknown learned solver {self.kind!r}; choose one of {', '.join(DEFAULT_CHECKPOINTS)}")


class LearnedSolver(IterativeSolver):
    """Feedback (or regression) updates from trained networks; one network pass per step."""

    params: LearnedSolverParams

    def __init__(self, params: LearnedSolverParams | None = None, device: torch.device | str = "cpu"):
        params = params or LearnedSolverParams()
        self.checkpoint_path = params.checkpoint or default_checkpoint(params.kind)
        self.checkpoint = load_checkpoint(self.checkpoint_path, device)
        steps = params.steps or self.checkpoint.steps
        super().__init__(replace(params, max_iterations=steps, patience=0))
        self.name = params.kind + ("-damped" if params.damped else "")
        self.feedback = params.kind != "regression"
        check_kind(self.checkpoint, self.checkpoint_path, self.name, self.feedback)

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        check_fits(self.checkpoint, self.checkpoint_path, "pose6d", observation.shape[-1])
        rendering = problem.forward(x)
        energy = silhouette_difference(rendering, observation)
        if iteration >= self.params.max_iterations:
            return StepResult(rendering, energy, x)
        network = self.checkpoint.network_for_step(iteration).to(x.device)
        with torch.no_grad():
            update = network(observation, rendering if self.feedback else None, x)
        next_x = apply_update(x, update)
        if self.params.damped:
            next_x = self._damped(problem, observation, x, update, energy, next_x)
        return StepResult(rendering, energy, next_x)

    def _damped(self, problem, observation, x, update, energy, candidate):
        accepted = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        result = x.clone()
        scale = 1.0
        for _ in range(self.params.max_halvings + 1):
            lower = silhouette_difference(problem.forward(candidate), observation) < energy
            take = lower & ~accepted
            result[take] = candidate[take]
            accepted |= lower
            if accepted.all():
                break
            scale *= 0.5
            candidate = apply_update(x, scale * update)
        return result
