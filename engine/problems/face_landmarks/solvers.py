"""face-landmarks' solvers: the generic optimizers on the energy of Eq. 5 and 9 (lm, lbfgs, adam, gauss-newton),
and the learned fitters (lf, the paper's Table 7 'Ours', and lgd) whose checkpoints ship in
assets/checkpoints/face-landmarks-KIND.safetensors, with lf's initialiser alone (regression) where lf ships. Any
other fitter checkpoint runs through `fitter` (bench face-landmarks --checkpoint-dir)."""
from __future__ import annotations

import os
from typing import Any

from ...learn.fitter import fitter_factory
from ...learn.fitter_network import fitter_class
from ...learn.fitter_solvers import fitter_solver_entries
from ...learn.solver import shipped_checkpoint
from ...solvers.base import IterativeSolver
from ...solvers.generic import generic_solver_entries
from ..spec import ParameterGroup, SolverEntry

CAPABILITIES = frozenset({"differentiable", "residuals", "train"})
TRAINED = ("lf", "lgd")
"""The fitters trained for this problem (engine.learn.fitter_training.FITTER_KINDS)."""


def shipped(name: str) -> tuple[str, ...]:
    """The TRAINED kinds whose checkpoint ships."""
    return tuple(kind for kind in TRAINED if os.path.isfile(shipped_checkpoint(name, kind)))


def solver_entries(name: str, groups: tuple[ParameterGroup, ...]) -> tuple[SolverEntry, ...]:
    return generic_solver_entries(CAPABILITIES) + fitter_solver_entries(name, groups, shipped(name))


def fitter(name: str, groups: tuple[ParameterGroup, ...], kind: str, checkpoint: str, **options: Any
           ) -> IterativeSolver:
    """The learned fitter `kind` of a checkpoint file, shipped or not."""
    return fitter_factory(name, fitter_class(name), groups, kind)(checkpoint=checkpoint, **options)
