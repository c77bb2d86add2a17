"""The ik problem's solvers: the generic optimizers, the learned ones (deep feedback, per-step and shared, and
Deep6D), the feedback result refined by L-BFGS (as pose6d's feedback+softras), and IKOL's Gauss-Newton layer
(with the true twist, zero twist, or the twist network of ikol-net); each a SolverEntry of the spec."""
from __future__ import annotations

from typing import Any, Callable

from ...solvers.base import IterativeSolver
from ...solvers.chain import ChainedSolver
from ...solvers.generic import generic_solver_entries, make_generic
from ...solvers.options import options_for
from ..spec import SolverEntry
from .ikol_solver import IKOL_SOLVERS

CAPABILITIES = frozenset({"differentiable", "residuals"})
FEEDBACK_RULE = "R_{t+1} = R_t dR(g_t(f(x_t), y, y - f(x_t), x_t)): an MLP reads the joints' feedback"


def _learned(kind: str) -> Callable[..., IterativeSolver]:
    def make(**o: Any) -> IterativeSolver:
        from ...learn.solver import LearnedSolverParams
        from .learned import IKLearnedSolver

        options = options_for(LearnedSolverParams, o)
        options.pop("max_iterations", None)  # the checkpoint sets the number of steps
        return IKLearnedSolver(LearnedSolverParams(kind=kind, **options))
    return make


def _feedback_then_lbfgs(**o: Any) -> IterativeSolver:
    return ChainedSolver("feedback+lbfgs", _learned("feedback")(**o), make_generic("lbfgs", **o))


SOLVERS = generic_solver_entries(CAPABILITIES) + (
    SolverEntry("feedback", "learned", "deep feedback network, 3 steps, one MLP per step", _learned("feedback"),
                FEEDBACK_RULE),
    SolverEntry("feedback-shared", "learned", "deep feedback network, one MLP shared by every step",
                _learned("feedback-shared"), FEEDBACK_RULE),
    SolverEntry("deep6d", "learned", "Deep6D regression (Zhou et al.): target joints to a 6D rotation per joint, "
                "one step", _learned("deep6d"), "R = gram_schmidt(g(y)): one MLP pass, no feedback"),
    SolverEntry("feedback+lbfgs", "chain", "the feedback network's result as L-BFGS's initial estimate",
                _feedback_then_lbfgs, FEEDBACK_RULE + ", then L-BFGS on the energy"),
) + IKOL_SOLVERS
