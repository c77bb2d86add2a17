"""The body-keypoints problem's solvers: the generic optimizers on the energy with the pose prior (lm, lbfgs, ...),
the learned fitters of the learning-to-fit paper's Table 1 (lgd, lgd-eq1, lf) and lf's initialiser alone
(regression), and lf's result refined by LM."""
from __future__ import annotations

from typing import Any

from ...learn.fitter_solvers import EQ1_RULE, fitter_solver_entries
from ...solvers.base import IterativeSolver
from ...solvers.chain import ChainedSolver
from ...solvers.generic import generic_solver_entries, make_generic
from ..spec import ParameterGroup, SolverEntry

CAPABILITIES = frozenset({"differentiable", "residuals", "train"})
TRAINED = ("lf", "lgd", "lgd-eq1")
"""The fitters shipped for this problem (Table 1's learned rows)."""


def solver_entries(name: str, groups: tuple[ParameterGroup, ...]) -> tuple[SolverEntry, ...]:
    learned = fitter_solver_entries(name, groups, TRAINED)

    def lf_then_lm(**options: Any) -> IterativeSolver:
        return ChainedSolver("lf+lm", learned[0].factory(**options), make_generic("lm", **options))

    return generic_solver_entries(CAPABILITIES) + learned + (
        SolverEntry("lf+lm", "chain", "the learned fitter's result as Levenberg-Marquardt's initial estimate",
                    lf_then_lm, EQ1_RULE + ", then LM on the energy with the prior"),
    )
