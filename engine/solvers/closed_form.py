"""Closed-form estimators on the iteration interface: one step from the observation alone (a sample median, the
lowest-energy candidate), so that they sit in comparisons, traces and recordings beside the optimizers.

Record 0 is the initial estimate, record 1 the estimate; a subclass supplies only `estimate`.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch

from .base import IterativeSolver, SolverParams, StepResult


class ClosedFormSolver(IterativeSolver):
    """Base of the one-step estimators (see the module docstring)."""

    def __init__(self, name: str):
        super().__init__(SolverParams(max_iterations=1, patience=0))
        self.name = name

    @abstractmethod
    def estimate(self, problem: Any, observation: torch.Tensor) -> torch.Tensor:
        """(b, D) the estimate of the active items from their observation."""

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        with torch.no_grad():
            prediction = problem.forward(x)
            energy = problem.energy(prediction, observation, x)
            next_x = self.estimate(problem, observation).to(x) if iteration == 0 else x
        return StepResult(prediction, energy, next_x)
