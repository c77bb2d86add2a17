"""Solver options shared across the command line, the app and the worker: each declared once with its flag and
its allowed range, and checked wherever solvers are made (spec.make_solver), so that a value typed on the
command line and one set in the app are refused alike."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..bounds import Bound, integer
from ..render.softras import FINAL_SIGMA, SIGMA_STEPS, START_SIGMA


@dataclass(frozen=True)
class SharedOption:
    """A setting every solver that has it reads: its key in the solvers' options, flag, help and range."""

    key: str
    flag: str
    help: str
    bound: Bound
    type: type = float


SHARED_OPTIONS = (
    SharedOption("max_iterations", "--max-iterations", "iteration limit of every solver (default: each solver's)",
                 integer(1, 100_000), int),
    SharedOption("learning_rate", "--lr", "gradient optimizers' step size (default 0.01)",
                 Bound(0.0, 10.0, low_open=True)),
    SharedOption("sigma", "--sigma", f"SoftRas sharpness at the first iteration (default {START_SIGMA:g}; smaller "
                                      "is sharper)", Bound(1e-7, 0.1)),
    SharedOption("sigma_final", "--sigma-final", f"SoftRas sharpness at the end of its schedule (default "
                                                  f"{FINAL_SIGMA:g}; --sigma's value keeps sigma fixed)",
                 Bound(1e-7, 0.1)),
    SharedOption("sigma_steps", "--sigma-steps", f"iterations over which SoftRas' sigma falls geometrically from "
                                                  f"--sigma to --sigma-final (default {SIGMA_STEPS})",
                 integer(0, 100_000), int),
)


def shared_bound(key: str) -> Bound:
    """The allowed range of the shared option `key` (e.g. 'max_iterations')."""
    return next(option.bound for option in SHARED_OPTIONS if option.key == key)


def check_solver_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options, or ValueError (one line) naming the flag and its range for a shared option out of range, or
    naming both flags for a SoftRas schedule that would soften (--sigma-final above --sigma)."""
    for option in SHARED_OPTIONS:
        if option.key in options:
            option.bound.check(option.flag, options[option.key])
    if "sigma" in options or "sigma_final" in options:
        first, last = options.get("sigma", START_SIGMA), options.get("sigma_final", FINAL_SIGMA)
        if last > first:
            raise ValueError(f"--sigma-final {last:g} is above --sigma {first:g}: SoftRas' sigma only falls from the "
                             f"first iteration to the last (give both the same value for a fixed sigma)")
    return options


def check_solver_params(params: Any) -> None:
    """ValueError for solver settings (a params dataclass) with a shared option out of range or any other number
    that is not finite, however they were made."""
    values = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    check_solver_options({key: value for key, value in values.items() if value is not None})
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"solver setting {name} must be a finite number, got {value:g}")


def options_for(params_class: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides that this kind of solver has a setting for (e.g. --lr means nothing to a learned solver)."""
    names = {f.name for f in dataclasses.fields(params_class)}
    return {key: value for key, value in overrides.items() if key in names}
