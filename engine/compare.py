"""Running several solvers on the same problems from the same initial estimate."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Callable

import torch

from .solvers.registry import make_solver
from .trace import Comparison, Trace


def run_comparison(
    problem: Any,
    problem_name: str,
    observation: torch.Tensor,
    solver_names: list[str],
    x0: torch.Tensor | None = None,
    ground_truth: torch.Tensor | None = None,
    keep_renderings: bool = True,
    solver_options: dict[str, Any] | None = None,
    on_solver_done: Callable[[str, Trace], None] | None = None,
    meta: dict[str, Any] | None = None,
) -> Comparison:
    """Solves the batch with every named solver in turn and collects one Trace each."""
    x0 = problem.initial_estimate() if x0 is None else x0
    traces = {}
    for name in solver_names:
        solver = make_solver(name, **(solver_options or {}))
        trace = Trace.collect(name, solver.iterate(problem, observation, x0, ground_truth), keep_renderings,
                              settings=jsonable(asdict(solver.params)))
        traces[name] = trace
        if on_solver_done is not None:
            on_solver_done(name, trace)
    return Comparison(
        problem=problem_name,
        observation=observation.detach().cpu().numpy(),
        x0=x0.detach().cpu().numpy(),
        traces=traces,
        ground_truth=None if ground_truth is None else ground_truth.detach().cpu().numpy(),
        parameter_names=tuple(problem.parameter_names),
        meta=dict(meta or {}),
    )


def jsonable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as JSON-friendly values (tuples become lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in settings.items()}
