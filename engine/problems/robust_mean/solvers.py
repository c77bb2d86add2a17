"""robust-mean's solvers: the generic optimizers from 0, the closed-form mean and median, the paper's candidate
search (the sample of lowest energy: each RBF's centre is a candidate minimum) and that search refined by
trust-region Newton, which is how training finds its minima."""
from __future__ import annotations

from typing import Any

import torch

from ...solvers.chain import ChainedSolver
from ...solvers.closed_form import ClosedFormSolver
from ...solvers.generic import generic_solver_entries, make_generic
from ..spec import SolverEntry
from .problem import rbf_energy

CAPABILITIES = frozenset({"differentiable", "residuals", "hessian"})
CANDIDATE_CHUNK = 1 << 22
"""Candidate x sample energies evaluated at once by the search (memory: 16 MB)."""


def lowest_energy_sample(samples: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """(B, 1) the sample whose RBF energy is lowest, per item: the start the paper's optimisation takes."""
    batch, count = samples.shape
    rows = max(1, CANDIDATE_CHUNK // max(batch * count, 1))
    energies = torch.cat([rbf_energy(samples[:, start:start + rows, None], samples[:, None, :], log_sigma)
                          for start in range(0, count, rows)], dim=1)
    return samples.gather(1, energies.argmin(1, keepdim=True))


class SampleStatistic(ClosedFormSolver):
    """The samples' mean or median: what the robust energy is meant to beat."""

    def __init__(self, statistic: str):
        super().__init__(statistic)
        self.statistic = statistic

    def estimate(self, problem: Any, observation: torch.Tensor) -> torch.Tensor:
        if self.statistic == "mean":
            return observation.mean(1, keepdim=True)
        return observation.median(1, keepdim=True).values


class CandidateSearch(ClosedFormSolver):
    """The lowest-energy sample."""

    def __init__(self) -> None:
        super().__init__("candidates")

    def estimate(self, problem: Any, observation: torch.Tensor) -> torch.Tensor:
        return lowest_energy_sample(observation, problem.log_sigma.to(observation))


def _search_then(refine: str, **options: Any) -> ChainedSolver:
    return ChainedSolver(f"candidates+{refine}", CandidateSearch(), make_generic(refine, **options))


SOLVERS = generic_solver_entries(CAPABILITIES) + (
    SolverEntry("mean", "closed-form", "the samples' mean (outliers pull it)", lambda **o: SampleStatistic("mean"),
                "t = mean(x_i)"),
    SolverEntry("median", "closed-form", "the samples' median", lambda **o: SampleStatistic("median"),
                "t = median(x_i)"),
    SolverEntry("candidates", "closed-form", "the sample of lowest energy (every RBF centre is a candidate)",
                lambda **o: CandidateSearch(), "t = argmin over samples x_j of E(x_j)"),
    SolverEntry("candidates+newton", "chain", "the lowest-energy sample refined by trust-region Newton, as the "
                "paper's optimisation", lambda **o: _search_then("newton", **o),
                "t = argmin_j E(x_j), then dt = -(H + mu)^-1 g"),
)


REFINERS = ("newton", "lbfgs", "adam", "lm", "gauss-newton")
"""The workbench solvers that may refine the candidate search into the minimum the argmin layer differentiates."""


def energy_minimum(problem: Any, samples: torch.Tensor, refine: str = "newton") -> torch.Tensor:
    """(B, 1) the minimum the paper's optimisation finds at the problem's sigma: the lowest-energy sample, refined
    by the workbench solver `refine`."""
    if refine not in REFINERS:
        raise ValueError(f"--refine {refine!r}: choose one of {', '.join(REFINERS)}")
    return _search_then(refine).solve(problem, samples, problem.initial_estimate().to(samples)).x
