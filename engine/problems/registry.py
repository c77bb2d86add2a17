"""The registry of problems: every package engine/problems/NAME/ exporting SPEC, found at first use."""
from __future__ import annotations

import functools
import importlib
import pkgutil

from .spec import ProblemSpec


@functools.lru_cache(maxsize=1)
def problems() -> dict[str, ProblemSpec]:
    """Problem name -> spec, in name order."""
    found = {}
    for module in sorted(pkgutil.iter_modules(_package_path()), key=lambda m: m.name):
        if not module.ispkg:
            continue
        spec = getattr(importlib.import_module(f"{__package__}.{module.name}"), "SPEC", None)
        if isinstance(spec, ProblemSpec):
            if spec.name in found:
                raise RuntimeError(f"two problems are named {spec.name!r}")
            found[spec.name] = spec
    return found


def _package_path() -> list[str]:
    import os

    return [os.path.dirname(os.path.abspath(__file__))]


def get_problem(name: str) -> ProblemSpec:
    """The named problem's spec; ValueError naming the problems there are."""
    registered = problems()
    if name not in registered:
        raise ValueError(f"unknown problem {name!r}; choose from {', '.join(registered)} (`feedbacklab problems`)")
    return registered[name]


def first_app_problem() -> ProblemSpec:
    """The problem the first app held alone, whose old files (spec.first_app) still open."""
    return next(spec for spec in problems().values() if spec.first_app is not None)
