"""Solvers by command-line name."""
from __future__ import annotations

from typing import Callable

from .base import IterativeSolver
from .render_optim import RenderOptimizer, RenderOptimizerParams

SOLVER_FACTORIES: dict[str, Callable[..., IterativeSolver]] = {
    "nmr": lambda **o: RenderOptimizer(RenderOptimizerParams(rasterizer="nmr", **o)),
    "softras": lambda **o: RenderOptimizer(RenderOptimizerParams(rasterizer="softras", **o)),
    "nmr-lbfgs": lambda **o: RenderOptimizer(RenderOptimizerParams(rasterizer="nmr", method="lbfgs", **o)),
    "softras-lbfgs": lambda **o: RenderOptimizer(RenderOptimizerParams(rasterizer="softras", method="lbfgs", **o)),
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


def make_solver(name: str, **overrides) -> IterativeSolver:
    """A solver by name with its default settings, some overridden (e.g. max_iterations=100)."""
    if name not in SOLVER_FACTORIES:
        raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVER_FACTORIES)}")
    return SOLVER_FACTORIES[name](**overrides)
