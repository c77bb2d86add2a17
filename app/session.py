"""App sessions on disk: the problem (name, config, inputs), the observation, run settings and every trace in
one .npz (the engine's Comparison format, trace version 2, with the inputs attached as arrays), so that a
session reopens exactly as it was saved. Sessions of the first app (version 1) still open, as the problem
it held (its spec's first_app reads them)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.bounds import integer
from engine.outputs import OutputError
from engine.problems import registry
from engine.problems.spec import ProblemSpec, config_from_dict, config_to_dict
from engine.trace import Comparison, TraceError

from .live_trace import LiveTrace
from .state import AppState, InputInfo, ObservationInfo, RunSettings

SESSION_FORMAT = "feedbacklab-app-session"
SESSION_VERSION = 2
READABLE_SESSION_VERSIONS = (1, 2)
CURSORS = integer(0, 2**31 - 1)
"""The timeline positions a session may hold."""


class SessionError(ValueError):
    """A session that cannot be saved or opened; one line naming the file and what to do."""


@dataclass
class Session:
    problem: str
    config: dict[str, Any]
    inputs: dict[str, InputInfo]
    observation: ObservationInfo
    settings: RunSettings
    traces: dict[str, LiveTrace]
    x0: np.ndarray | None
    cursor: int


def _attachment(key: str, array: str) -> str:
    return f"input.{key}.{array}"


def save_session(path: str, state: AppState) -> None:
    """Writes the session to path (.npz)."""
    if not path.lower().endswith(".npz"):
        raise SessionError(f"{path}: sessions are .npz files; choose a name ending in .npz")
    if state.observation is None:
        raise SessionError("nothing to save yet: make or open an observation first")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise SessionError(f"{path}: directory {directory} does not exist")
    comparison = state.comparison()
    comparison.meta.update({
        "format": SESSION_FORMAT, "version": SESSION_VERSION, "settings": asdict(state.settings),
        "cursor": state.cursor, "has_run": state.x0 is not None,
        "inputs": {key: {"name": info.name, "description": info.description, "path": info.path,
                         "arrays": list(info.arrays)} for key, info in state.inputs.items()},
    })
    comparison.attachments = {_attachment(key, name): array for key, info in state.inputs.items()
                              for name, array in info.arrays.items()}
    try:
        comparison.save(path)
    except OutputError as error:
        raise SessionError(str(error)) from None


def load_session(path: str) -> Session:
    """Reads a session written by save_session (or by the first app); SessionError otherwise. The whole session
    is checked here, against the problem's spec and its config, with the checks the engine makes (its inputs'
    from_arrays), so that nothing the user has is replaced by a session that cannot be shown or restored."""
    try:
        comparison = Comparison.load(path)
    except TraceError as error:
        raise SessionError(str(error).replace("feedbacklab trace", "feedbacklab session")) from None
    meta = comparison.meta
    if not isinstance(meta, dict) or meta.get("format") != SESSION_FORMAT:
        raise SessionError(f"{path}: a solver trace, not an app session; open it with `feedbacklab replay`, or "
                           "save sessions with File > Save session")
    if meta.get("version") not in READABLE_SESSION_VERSIONS:
        raise SessionError(f"{path}: session version {meta.get('version')} is not supported (this app reads "
                           f"versions {', '.join(map(str, READABLE_SESSION_VERSIONS))})")
    try:
        return _session(comparison, path)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise SessionError(f"{path}: the session cannot be opened ({' '.join(str(error).split())})") from None


def _session(comparison: Comparison, path: str) -> Session:
    """The checked session; ValueError (or a lookup error) naming what does not fit."""
    meta = comparison.meta
    settings_values, config_values, inputs = _problem_parts(meta, comparison)
    spec = registry.get_problem(comparison.problem)
    config = config_to_dict(config_from_dict(spec.config, config_values))
    entries = {entry.key: entry for entry in spec.inputs}
    for key, info in inputs.items():
        if key not in entries:
            raise ValueError(f"problem {spec.name} has no input {key!r}")
        if entries[key].from_arrays is not None:
            entries[key].from_arrays(info.name, info.arrays)  # ValueError when the arrays do not fit
    observation = _observation(comparison, spec, config)
    unpictured = [name for name, trace in comparison.traces.items() if trace.predictions is None]
    if unpictured:
        raise ValueError(f"the traces of {', '.join(unpictured)} hold no predictions to show")
    ground_truth = None if comparison.ground_truth is None else comparison.ground_truth[0]
    x0 = comparison.x0[0]
    return Session(
        problem=spec.name, config=config, inputs=inputs,
        observation=ObservationInfo(observation[0], ground_truth, str(meta.get("observation", path))),
        settings=RunSettings.from_dict(settings_values, spec),
        traces={name: LiveTrace.from_trace(trace) for name, trace in comparison.traces.items()},
        x0=x0 if meta.get("has_run") else None, cursor=CURSORS.check("cursor", meta.get("cursor", 0)),
    )


def _observation(comparison: Comparison, spec: ProblemSpec, config: dict[str, Any]) -> np.ndarray:
    """The session's (1, *shape) observation, checked against the spec and against its config (pose6d: an image
    of the config's image size)."""
    observation = _numbers(comparison.observation, "observation")
    spec.observation.check(observation, 1)
    if spec.fit_config is not None:
        fitted = config_to_dict(spec.fit_config(config_from_dict(spec.config, config), observation))
        differing = [f"{name} {config[name]} (the observation needs {value})" for name, value in fitted.items()
                     if config[name] != value]
        if differing:
            raise ValueError(f"its observation of shape {observation.shape[1:]} does not fit its settings: "
                             + ", ".join(differing))
    return observation


def _numbers(array: Any, name: str) -> np.ndarray:
    """A saved array of numbers as float32; ValueError for text or anything else."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} holds {array.dtype} values, not numbers")
    return array.astype(np.float32)


def _dict(meta: dict[str, Any], key: str) -> dict[str, Any]:
    value = meta.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a table of names and values, got {type(value).__name__}")
    return value


def _problem_parts(meta: dict[str, Any], comparison: Comparison
                   ) -> tuple[dict[str, Any], dict[str, Any], dict[str, InputInfo]]:
    """(run settings, config, inputs) of a session of either version."""
    settings = dict(_dict(meta, "settings"))
    if meta["version"] == 1:
        spec = registry.first_app_problem()
        comparison.problem = spec.name
        config, parts = spec.first_app.session_parts(settings, comparison.attachments, meta)
        return settings, config, {key: InputInfo(key, *part) for key, part in parts.items()}
    inputs = {key: InputInfo(key, str(saved["name"]), str(saved["description"]),
                             {name: comparison.attachments[_attachment(key, name)] for name in saved["arrays"]},
                             saved.get("path"))
              for key, saved in _dict(meta, "inputs").items()}
    return settings, dict(comparison.config), inputs
