"""The body-keypoints problem's solvers: the generic optimizers on the energy with the pose prior (lm, lbfgs, ...),
the learned fitters of the learning-to-fit paper's Table 1 (lgd, lgd-eq1, lf) and lf's initialiser alone
(regression), and lf's result refined by LM."""
from __future__ import annotations

from typing import Any

from ...learn.fitter import fitter_factory
from ...learn.fitter_network import fitter_class
from ...learn.fitter_training import FITTER_KINDS
from ...solvers.base import IterativeSolver
from ...solvers.chain import ChainedSolver
from ...solvers.generic import generic_solver_entries, make_generic
from ..spec import ParameterGroup, SolverEntry

CAPABILITIES = frozenset({"differentiable", "residuals", "train"})
TRAINED = ("lf", "lgd", "lgd-eq1")
"""The fitters shipped for this problem (Table 1's learned rows)."""
FITTER_RULE = "theta_{t+1} = theta_t + alpha_t * Delta_t - beta_t * g_t / rms(g_t): GRU memory, learned step sizes"
LGD_RULE = "theta_{t+1} = theta_t + 0.1 * net(observation, theta_t, g_t)"


def solver_entries(name: str, groups: tuple[ParameterGroup, ...]) -> tuple[SolverEntry, ...]:
    network = fitter_class(name)

    def fitter(kind: str, steps: int | None = None):
        return fitter_factory(name, network, groups, kind, steps)

    def lf_then_lm(**options: Any) -> IterativeSolver:
        return ChainedSolver("lf+lm", fitter("lf")(**options), make_generic("lm", **options))

    learned = tuple(SolverEntry(kind, "learned", FITTER_KINDS[kind][0], fitter(kind),
                                LGD_RULE if kind == "lgd" else FITTER_RULE) for kind in TRAINED)
    return generic_solver_entries(CAPABILITIES) + learned + (
        SolverEntry("regression", "learned", "lf's initialiser alone: an MLP from the keypoints to the parameters",
                    fitter("lf", steps=1), "theta = MLP(observation): one step, no feedback"),
        SolverEntry("lf+lm", "chain", "the learned fitter's result as Levenberg-Marquardt's initial estimate",
                    lf_then_lm, FITTER_RULE + ", then LM on the energy with the prior"),
    )
