"""Solver options shared across the command line, the app and the worker."""
from __future__ import annotations

import dataclasses
from typing import Any


def options_for(params_class: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides that this kind of solver has a setting for (e.g. --lr means nothing to a learned solver)."""
    names = {f.name for f in dataclasses.fields(params_class)}
    return {key: value for key, value in overrides.items() if key in names}
