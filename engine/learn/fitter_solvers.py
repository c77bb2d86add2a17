"""A problem's learned fitters as solver entries: each trained kind (lf, its ablations, LGD) and lf's initialiser
alone (regression, where lf is offered), every one reading its checkpoint assets/checkpoints/PROBLEM-KIND.safetensors."""
from __future__ import annotations

from ..problems.spec import ParameterGroup, SolverEntry
from .fitter import fitter_factory
from .fitter_network import fitter_class
from .fitter_training import FITTER_KINDS

EQ1_RULE = "theta_{t+1} = theta_t + alpha_t * Delta_t - beta_t * g_t / rms(g_t): learned step sizes"
REGRESSION_RULE = "theta = MLP(observation): one step, no feedback"


def update_rule(kind: str) -> str:
    """The teach panel's line for a fitter kind: Eq. 1, or the pure network update of its preset."""
    preset = FITTER_KINDS[kind][1]
    if preset.get("update") == "network":
        return f"theta_{{t+1}} = theta_t + {preset.get('network_scale', 1.0):g} * Delta_t(observation, theta_t, r_t, g_t)"
    return EQ1_RULE + (", GRU memory" if preset.get("cell", "gru") == "gru" else "")


def fitter_solver_entries(problem: str, groups: tuple[ParameterGroup, ...], kinds: tuple[str, ...]
                          ) -> tuple[SolverEntry, ...]:
    """The entries of the fitter kinds (FITTER_KINDS' names), then, with lf among them, regression."""
    network = fitter_class(problem)
    return tuple(SolverEntry(kind, "learned", FITTER_KINDS[kind][0], fitter_factory(problem, network, groups, kind),
                             update_rule(kind)) for kind in kinds) + ((
        SolverEntry("regression", "learned", "lf's initialiser alone: an MLP from the observation to the parameters",
                    fitter_factory(problem, network, groups, "lf", steps=1), REGRESSION_RULE),) if "lf" in kinds else ())
