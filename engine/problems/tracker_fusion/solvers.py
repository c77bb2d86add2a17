"""tracker-fusion's solvers: the paper's baselines in closed form (mean and median fusion, the best single
tracker), the lowest-energy RBF centre (the paper's start), the paper's fusion (that start, then L-BFGS on the
energy; or trust-region Newton), and the generic optimizers from the problem's uninformed initial estimate."""
from __future__ import annotations

from typing import Any, Callable

import torch

from ...solvers.chain import ChainedSolver
from ...solvers.closed_form import ClosedFormSolver
from ...solvers.generic import generic_solver_entries, make_generic
from ..spec import SolverEntry
from . import energy as fusion_energy

CAPABILITIES = frozenset({"differentiable", "hessian", "residuals"})
Estimate = Callable[[Any, torch.Tensor], torch.Tensor]
"""(problem, observation (B, 72, 5)) -> boxes (B, 4)."""


class Estimator(ClosedFormSolver):
    """One of the estimates below as a closed-form solver (shared options such as --max-iterations do not apply)."""

    def __init__(self, name: str, rule: Estimate):
        super().__init__(name)
        self.rule = rule

    def estimate(self, problem: Any, observation: torch.Tensor) -> torch.Tensor:
        return self.rule(problem, observation)


def mean_fusion(problem: Any, observation: torch.Tensor) -> torch.Tensor:
    return observation[..., :4].mean(1)


def median_fusion(problem: Any, observation: torch.Tensor) -> torch.Tensor:
    return observation[..., :4].median(1).values


def best_tracker(problem: Any, observation: torch.Tensor) -> torch.Tensor:
    return observation[:, problem.best_tracker, :4]


def rbf_centre(problem: Any, observation: torch.Tensor) -> torch.Tensor:
    return fusion_energy.best_centres(observation[..., :4], observation[:, 0, 4], problem.weights)


def _closed_form(name: str, rule: Estimate) -> Callable[..., Estimator]:
    return lambda **options: Estimator(name, rule)


def rbf_then(method: str, **options: Any) -> ChainedSolver:
    """The paper's minimisation: per corner the lowest-energy RBF centre, then the generic `method`."""
    return ChainedSolver(f"rbf+{method}", Estimator("rbf-centre", rbf_centre), make_generic(method, **options))


def _from_rbf_centre(method: str) -> Callable[..., ChainedSolver]:
    return lambda **options: rbf_then(method, **options)


START_RULE = "y_0 = per corner the RBF centre c_k of lowest energy"
SOLVERS = (
    SolverEntry("mean", "closed-form", "mean fusion: each coordinate's mean over the 72 trackers",
                _closed_form("mean", mean_fusion), "y = mean_k b_k"),
    SolverEntry("median", "closed-form", "median fusion: each coordinate's median over the 72 trackers",
                _closed_form("median", median_fusion), "y = median_k b_k (per coordinate)"),
    SolverEntry("best-tracker", "closed-form", "the single tracker of the best IoU on the training frames",
                _closed_form("best-tracker", best_tracker), "y = b_k*, k* = argmax_k training IoU"),
    SolverEntry("rbf-centre", "closed-form", "per corner the lowest-energy RBF centre (the paper's start)",
                _closed_form("rbf-centre", rbf_centre), START_RULE),
    SolverEntry("rbf+lbfgs", "chain", "the paper's fusion: from the lowest-energy RBF centre, L-BFGS on the energy",
                _from_rbf_centre("lbfgs"), START_RULE + ", then L-BFGS: dx = -a H g"),
    SolverEntry("rbf+newton", "chain", "from the lowest-energy RBF centre, trust-region Newton on the energy",
                _from_rbf_centre("newton"), START_RULE + ", then dx = -(H + mu I)^-1 g"),
) + generic_solver_entries(CAPABILITIES)
