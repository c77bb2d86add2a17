"""Learned solvers: the deep feedback solver (per-step or shared update networks) and the deep regression
baseline. Each step renders the current estimate with pyrender (never differentiated), and the step's
network predicts the update: x_{t+1} = x_t (+) g^t(y, y_t, y - y_t, x_t), the update applied as its checkpoint
says (training.apply_update: relative rotation vector and translation step, or added and renormalised).

With `damped` (Sec. 3.3), the step tries x_t + lambda * g with lambda = 1, 1/2, 1/4, ... and takes the first
whose data energy is lower than x_t's (re-rendering only; the network runs once); after `max_halvings`
failed tries the item keeps x_t.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ...learn.checkpoint import CheckpointError
from ...learn.solver import CheckpointSolver, LearnedSolverParams
from ...silhouettes import silhouette_difference
from ...solvers.base import StepResult
from .network import UpdateNetwork
from .training import apply_update


@dataclass(frozen=True)
class Pose6DLearnedParams(LearnedSolverParams):
    """A pose6d learned solver's settings: the kind ('feedback', 'feedback-shared', 'regression') and the damped
    update."""

    damped: bool = False
    """Damped adaptive update (Sec. 3.3)."""
    max_halvings: int = 4
    """Damped update: tries of lambda = 1, 1/2, ... before keeping x_t."""


class LearnedSolver(CheckpointSolver):
    """Feedback (or regression) updates from trained networks; one network pass per step."""

    problem = "pose6d"
    kinds = {"feedback": (UpdateNetwork, True), "feedback-shared": (UpdateNetwork, True),
             "regression": (UpdateNetwork, False)}
    params: Pose6DLearnedParams

    def __init__(self, params: Pose6DLearnedParams | None = None, device: torch.device | str = "cpu"):
        params = params or Pose6DLearnedParams()
        super().__init__(params, device, params.kind + ("-damped" if params.damped else ""))

    def _check_size(self, image_size: int) -> None:
        trained = self.checkpoint.networks[0].config.image_size
        if trained != image_size:
            raise CheckpointError(f"{self.checkpoint_path}: trained on {trained} px silhouettes but the observation "
                                  f"is {image_size} px; resize it or train at that size (--size)")

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        self._check_size(observation.shape[-1])
        started = time.perf_counter()
        rendering = problem.forward(x)
        rendered = time.perf_counter()
        energy = silhouette_difference(rendering, observation)
        if iteration >= self.params.max_iterations:
            return StepResult(rendering, energy, x)
        network = self.network(iteration, x.device)
        with torch.no_grad():
            update = network(observation, rendering if self.feedback else None, x)
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)
        passed = time.perf_counter()
        next_x = apply_update(x, update, network.config.relative_update)
        if self.params.damped:
            next_x = self._damped(problem, observation, x, update, energy, next_x, network.config.relative_update)
        rerendered = time.perf_counter() - passed  # the damped update's renders of its candidates
        return StepResult(rendering, energy, next_x,
                          info=self._timing(x, rendered - started + rerendered, passed - rendered))

    @staticmethod
    def _timing(x: torch.Tensor, render_seconds: float, network_seconds: float) -> dict[str, torch.Tensor]:
        """The step's pyrender and network time in ms, shared out over the batch (bench pose6d's split)."""
        share = 1000.0 / x.shape[0]
        return {"render_ms": torch.full((x.shape[0],), render_seconds * share, device=x.device),
                "network_ms": torch.full((x.shape[0],), network_seconds * share, device=x.device)}

    def _damped(self, problem, observation, x, update, energy, candidate, relative):
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
            candidate = apply_update(x, scale * update, relative)
        return result
