"""What every learned solver shares: settings naming a kind and a checkpoint, the checkpoint loaded (of the
kind's network class) and checked, and the number of steps taken from it. A problem's learned solver subclasses
`CheckpointSolver` and writes only its `step`."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import ClassVar

import torch
from torch import nn

from ..solvers.base import IterativeSolver, SolverParams
from .checkpoint import Checkpoint, check_kind, load_checkpoint

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "assets")


def shipped_checkpoint(problem: str, kind: str) -> str:
    """The checkpoint shipped in assets/checkpoints/ for a problem's learned solver kind."""
    return os.path.join(ASSETS, "checkpoints", f"{problem}-{kind}.safetensors")


@dataclass(frozen=True)
class LearnedSolverParams(SolverParams):
    """Settings of a learned solver; max_iterations is taken from the checkpoint's number of steps."""

    kind: str = "feedback"
    """Which of the problem's learned solvers (its checkpoint's solver name)."""
    checkpoint: str | None = None
    """Path of a checkpoint (default: the shipped one for `kind`)."""
    steps: int | None = None
    """Run this many steps instead of the checkpoint's (a shared network can run longer)."""


class CheckpointSolver(IterativeSolver):
    """A solver whose updates come from the networks of one checkpoint."""

    problem: ClassVar[str]
    kinds: ClassVar[dict[str, tuple[type[nn.Module], bool]]]
    """Each kind's network class and whether it reads feedback."""
    params: LearnedSolverParams
    checkpoint: Checkpoint

    def __init__(self, params: LearnedSolverParams, device: torch.device | str = "cpu", name: str | None = None):
        if params.kind not in self.kinds:
            raise ValueError(f"unknown learned solver {params.kind!r}; choose one of {', '.join(self.kinds)}")
        self.feedback = self.kinds[params.kind][1]
        self.name = name or params.kind
        self.checkpoint_path = params.checkpoint or shipped_checkpoint(self.problem, params.kind)
        self.checkpoint = self.load(self.checkpoint_path, params.kind, device)
        super().__init__(replace(params, max_iterations=params.steps or self.checkpoint.steps, patience=0))

    def load(self, path: str, kind: str, device: torch.device | str = "cpu") -> Checkpoint:
        """A checkpoint of this kind's network class, checked to be what this solver runs."""
        checkpoint = load_checkpoint(path, self.kinds[kind][0], device)
        check_kind(checkpoint, path, self.name, self.feedback)
        return checkpoint

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def network(self, iteration: int, device: torch.device) -> nn.Module:
        """The network of a step, on the estimates' device."""
        return self.checkpoint.network_for_step(iteration).to(device)
