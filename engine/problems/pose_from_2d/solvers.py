"""pose-from-2d's solvers: the generic optimizers on its energy (differentiable, a sum of squares, twice
differentiable), Tome et al.'s search over yaws and models (closed-form), and the search refined by
Levenberg-Marquardt or trust-region Newton on the full energy (chains)."""
from __future__ import annotations

from typing import Any, Callable

from ...solvers.base import IterativeSolver
from ...solvers.chain import ChainedSolver
from ...solvers.generic import GENERIC_SOLVERS, generic_solver_entries, make_generic
from ...solvers.options import options_for
from ..spec import SolverEntry
from .search import RotationSearch, SearchParams

CAPABILITIES = frozenset({"differentiable", "residuals", "hessian"})
SEARCH_RULE = ("x = the least-energy candidate over yaws k and models i, each pose P_ki = (H_k + S_i)^-1 (g_k + "
               "S_i mu_i) from the L2 data term and model i's prior")


def _search(**o: Any) -> IterativeSolver:
    return RotationSearch(SearchParams(**options_for(SearchParams, o)))


def _refined(second: str) -> Callable[..., ChainedSolver]:
    def make(**o: Any) -> ChainedSolver:
        return ChainedSolver(f"search+{second}", _search(**o), make_generic(second, **o))
    return make


SOLVERS = generic_solver_entries(CAPABILITIES) + (
    SolverEntry("search", "closed-form", "Tome et al.'s fit: yaws and models searched, the pose in closed form",
                _search, SEARCH_RULE),
    SolverEntry("search+lm", "chain", "the search's estimate refined by Levenberg-Marquardt on the full energy",
                _refined("lm"), SEARCH_RULE + ", then " + GENERIC_SOLVERS["lm"].update_rule),
    SolverEntry("search+newton", "chain", "the search's estimate refined by trust-region Newton on the full energy",
                _refined("newton"), SEARCH_RULE + ", then " + GENERIC_SOLVERS["newton"].update_rule),
)
