"""Running several solvers on the same problems from the same initial estimate."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Callable

import torch

from .problems.spec import Problem, ProblemSpec, config_to_dict
from .trace import Comparison, Trace


def run_comparison(
    spec: ProblemSpec,
    problem: Problem,
    observation: torch.Tensor,
    solver_names: list[str],
    x0: torch.Tensor | None = None,
    ground_truth: torch.Tensor | None = None,
    keep_predictions: bool = True,
    solver_options: dict[str, Any] | None = None,
    on_solver_done: Callable[[str, Trace], None] | None = None,
    meta: dict[str, Any] | None = None,
) -> Comparison:
    """Solves the batch with every named solver of the problem in turn and collects one Trace each."""
    x0 = problem.initial_estimate() if x0 is None else x0
    traces = {}
    for name in solver_names:
        solver = spec.make_solver(name, **(solver_options or {}))
        trace = Trace.collect(name, solver.iterate(problem, observation, x0, ground_truth),
                              spec.observation if keep_predictions else None, settings=solver_settings(solver))
        traces[name] = trace
        if on_solver_done is not None:
            on_solver_done(name, trace)
    return Comparison(
        problem=spec.name,
        observation=observation.detach().float().cpu().numpy(),
        x0=x0.detach().cpu().numpy(),
        traces=traces,
        ground_truth=None if ground_truth is None else ground_truth.detach().cpu().numpy(),
        parameter_names=spec.parameter_names,
        config=config_to_dict(problem.config),
        meta=dict(meta or {}),
    )


def solver_settings(solver: Any) -> dict[str, Any]:
    """A solver's parameters as JSON-friendly values (tuples become lists), for the record."""
    return jsonable(asdict(solver.params))


def jsonable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as JSON-friendly values (tuples become lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in settings.items()}


TIMING_OPTIONS = {"max_iterations": 20, "patience": 0, "tolerance": 0.0, "step_tolerance": 0.0,
                  "gradient_tolerance": 0.0}
"""Solver options of iteration_ms for an optimizer: 20 iterations, none of its stopping rules."""


def iteration_ms(solver: Any, problem: Problem, observation: torch.Tensor) -> float:
    """ms per iteration of a solver alone on the whole batch, from the problem's initial estimate and without the
    ground truth (so without the metrics that need it), one run."""
    last = None
    for last in solver.iterate(problem, observation, problem.initial_estimate()):
        pass
    return 1000.0 * last.elapsed / max(last.index, 1)
