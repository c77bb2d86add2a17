"""The illumination problem's learned solvers: the deep feedback solver (one network per step, or one shared)
and the deep regression baseline. Each step renders x_t with the forward process (pyrender, shadows; never
differentiated) and the step's network predicts the update: x_{t+1} = x_t + g^t(y, f(x_t), y - f(x_t), x_t).

Checkpoints are trained for one light kind; without --checkpoint the solver takes the shipped one for the
problem's light (assets/checkpoints/illumination-KIND-LIGHT.safetensors)."""
from __future__ import annotations

from dataclasses import replace

import torch

from ...learn.checkpoint import Checkpoint, CheckpointError
from ...learn.solver import CheckpointSolver, LearnedSolverParams, shipped_checkpoint
from ...solvers.base import StepResult
from .network import LightNetwork
from .problem import IlluminationConfig

DEFAULT_LIGHT = IlluminationConfig().light
"""The light of the checkpoint a solver reads its steps from before it sees a problem."""


def shipped_light_checkpoint(kind: str, light: str) -> str:
    return shipped_checkpoint("illumination", f"{kind}-{light}")


class IlluminationLearnedSolver(CheckpointSolver):
    """Feedback (or regression) updates from the networks of the checkpoint for the problem's light."""

    problem = "illumination"
    kinds = {"feedback": (LightNetwork, True), "feedback-shared": (LightNetwork, True),
             "regression": (LightNetwork, False)}

    def __init__(self, params: LearnedSolverParams | None = None, device: torch.device | str = "cpu"):
        params = params or LearnedSolverParams()
        self.chosen = params.checkpoint
        default = params.checkpoint or (shipped_light_checkpoint(params.kind, DEFAULT_LIGHT)
                                        if params.kind in self.kinds else None)
        super().__init__(replace(params, checkpoint=default), device)
        self._by_light: dict[str, Checkpoint] = {str(self.checkpoint.meta.get("light")): self.checkpoint}

    def for_light(self, light: str) -> Checkpoint:
        """The checkpoint for this light kind: the one given (CheckpointError when it was trained for the other
        kind), else the shipped one."""
        if self.chosen is not None:
            trained = self.checkpoint.meta.get("light")
            if trained != light:
                raise CheckpointError(f"{self.checkpoint_path}: trained for a {trained} light, but the problem's light "
                                      f"is {light}; set --light {trained} or give a checkpoint trained with --light "
                                      f"{light}")
            return self.checkpoint
        if light not in self._by_light:
            self._by_light[light] = self.load(shipped_light_checkpoint(self.params.kind, light), self.params.kind)
        return self._by_light[light]

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        checkpoint = self.for_light(problem.config.light)
        rendering = problem.forward(x)
        energy = problem.energy(rendering, observation, x)
        if iteration >= self.params.max_iterations:
            return StepResult(rendering, energy, x)
        network = checkpoint.network_for_step(iteration).to(x.device)
        with torch.no_grad():
            update, _ = network(observation, rendering if self.feedback else None, x)
        return StepResult(rendering, energy, x + update)
