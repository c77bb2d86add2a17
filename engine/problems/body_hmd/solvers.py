"""The body-hmd problem's solvers: the generic optimizers on the energy (adam, lbfgs, gauss-newton, lm), the
paper's optimisation baseline (lbfgs-prior), and the learned fitters of the paper's Tables 2-6 (lf, its ablations,
and lf's initialiser alone: regression).

lbfgs-prior (Table 2's 'L-BFGS, GMM'): L-BFGS on the energy with the Gaussian-mixture prior for BASELINE_ITERATIONS
iterations (stopping earlier only where the line search finds no decrease), keeping PyTorch's L-BFGS history of
BASELINE_HISTORY pairs, from the rest pose turned to the headset's heading and moved to the headset (headset_start)
rather than from the problem's initial estimate, which knows no observation. lbfgs-temporal (Table 2's 'L-BFGS,
GMM + temporal'): the same from the same start, with windows of consecutive frames optimised together
(temporal.py)."""
from __future__ import annotations

import os
from typing import Any

import torch

from ...learn.fitter_solvers import fitter_solver_entries
from ...learn.solver import shipped_checkpoint
from ...solvers.base import IterativeSolver, SolverParams, StepResult
from ...solvers.chain import ChainedSolver
from ...solvers.generic import generic_solver_entries, make_generic
from ...solvers.options import options_for
from ..spec import ParameterGroup, SolverEntry
from .temporal import TemporalLbfgs, TemporalParams

CAPABILITIES = frozenset({"differentiable", "residuals", "train"})
ABLATIONS = ("lf-shared", "lf-resnet", "lf-1gru", "lf-network", "lf-constant")
"""The ablations of Tables 3-6: training settings of lf (engine.learn.fitter_training.FITTER_KINDS)."""
SHIPPED = ("lf",) + tuple(kind for kind in ABLATIONS if os.path.isfile(shipped_checkpoint("body-hmd", kind)))
"""The fitters offered as solvers: lf and the ablations whose checkpoint ships in assets/checkpoints/ (any other
fitter checkpoint runs as `lf --checkpoint FILE`; `bench body-hmd --checkpoint-dir DIR` runs a directory's)."""
BASELINE_ITERATIONS = 120
BASELINE_HISTORY = 100


class HeadsetStart(IterativeSolver):
    """One step: the problem's headset_start(observation), the rest pose placed at the observed headset."""

    name = "headset-start"

    def __init__(self) -> None:
        super().__init__(SolverParams(max_iterations=1, patience=0))

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        prediction = problem.forward(x)
        start = problem.headset_start(observation) if iteration == 0 else x
        return StepResult(prediction, problem.energy(prediction, observation, x), start)


def _baseline(options: dict[str, Any]) -> dict[str, Any]:
    """The baselines' settings: BASELINE_ITERATIONS iterations, no patience, history BASELINE_HISTORY, unless
    overridden."""
    return {"max_iterations": BASELINE_ITERATIONS, "patience": 0, "history": BASELINE_HISTORY, **options}


def lbfgs_prior(**options: Any) -> IterativeSolver:
    settings = _baseline(options)
    return ChainedSolver("lbfgs-prior", HeadsetStart(), make_generic("lbfgs", **settings))


def lbfgs_temporal(**options: Any) -> ChainedSolver:
    return ChainedSolver("lbfgs-temporal", HeadsetStart(),
                         TemporalLbfgs(TemporalParams(**options_for(TemporalParams, _baseline(options)))))


def solver_entries(name: str, groups: tuple[ParameterGroup, ...]) -> tuple[SolverEntry, ...]:
    return generic_solver_entries(CAPABILITIES) + (
        SolverEntry("lbfgs-prior", "optimizer", f"the paper's baseline: L-BFGS with the GMM prior, "
                    f"{BASELINE_ITERATIONS} iterations from the rest pose at the headset", lbfgs_prior,
                    "x = rest pose at the headset, then dx = -a H g (L-BFGS, history 100)"),
        SolverEntry("lbfgs-temporal", "optimizer", "lbfgs-prior with a temporal term: consecutive items are frames, "
                    "windows of them optimised together", lbfgs_temporal,
                    "x = rest pose at the headset, then dX = -a H g per window of frames (energy + joint motion)"),
    ) + fitter_solver_entries(name, groups, SHIPPED)
