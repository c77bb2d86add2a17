"""Solvers by command-line name."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from .base import IterativeSolver
from .chain import ChainedSolver
from .feedback import LearnedSolver, LearnedSolverParams
from .render_optim import RenderOptimizer, RenderOptimizerParams


def _options(params_class: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides that this kind of solver has a setting for (e.g. --lr means nothing to a learned solver)."""
    names = {f.name for f in dataclasses.fields(params_class)}
    return {key: value for key, value in overrides.items() if key in names}


def _optimizer(rasterizer: str, method: str = "adam") -> Callable[..., IterativeSolver]:
    return lambda **o: RenderOptimizer(
        RenderOptimizerParams(rasterizer=rasterizer, method=method, **_options(RenderOptimizerParams, o)))


def _learned(kind: str, damped: bool = False) -> Callable[..., IterativeSolver]:
    def make(**o: Any) -> IterativeSolver:
        options = _options(LearnedSolverParams, o)
        options.pop("max_iterations", None)  # the checkpoint sets the number of steps
        return LearnedSolver(LearnedSolverParams(kind=kind, damped=damped, **options))
    return make


SOLVER_FACTORIES: dict[str, Callable[..., Any]] = {
    "nmr": _optimizer("nmr"),
    "softras": _optimizer("softras"),
    "nmr-lbfgs": _optimizer("nmr", "lbfgs"),
    "softras-lbfgs": _optimizer("softras", "lbfgs"),
    "feedback": _learned("feedback"),
    "feedback-damped": _learned("feedback", damped=True),
    "feedback-shared": _learned("feedback-shared"),
    "regression": _learned("regression"),
    "feedback+softras": lambda **o: ChainedSolver("feedback+softras", _learned("feedback")(**o),
                                                  _optimizer("softras")(**o)),
}


def parse_solver_names(text: str) -> list[str]:
    """'nmr,softras' to a list of known names; ValueError naming the unknown ones and the choices."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SOLVER_FACTORIES]
    if unknown or not names:
        raise ValueError(f"unknown solver(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SOLVER_FACTORIES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"solver list {text!r} names a solver twice")
    return names


def make_solver(name: str, **overrides: Any) -> Any:
    """A solver by name with its default settings, some overridden (e.g. max_iterations=100)."""
    if name not in SOLVER_FACTORIES:
        raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVER_FACTORIES)}")
    return SOLVER_FACTORIES[name](**overrides)
