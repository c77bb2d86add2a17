"""App sessions on disk: the problem (name, config, inputs), the observation, run settings and every trace in
one .npz (the engine's Comparison format, trace version 2, with the inputs attached as arrays), so that a
session reopens exactly as it was saved. Sessions of the first app (version 1) still open, as the problem
it held (its spec's first_app reads them)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.outputs import OutputError
from engine.problems import registry
from engine.problems.spec import config_from_dict, config_to_dict
from engine.trace import Comparison, TraceError

from .live_trace import LiveTrace
from .state import AppState, InputInfo, ObservationInfo, RunSettings

SESSION_FORMAT = "feedbacklab-app-session"
SESSION_VERSION = 2
READABLE_SESSION_VERSIONS = (1, 2)


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
    """Reads a session written by save_session (or by the first app); SessionError otherwise. Everything is
    checked against the problem's spec here, so that a session that opens also restores in the engine."""
    try:
        comparison = Comparison.load(path)
    except TraceError as error:
        raise SessionError(str(error).replace("feedbacklab trace", "feedbacklab session")) from None
    meta = comparison.meta
    if meta.get("format") != SESSION_FORMAT:
        raise SessionError(f"{path}: a solver trace, not an app session; open it with `feedbacklab replay`, or "
                           "save sessions with File > Save session")
    if meta.get("version") not in READABLE_SESSION_VERSIONS:
        raise SessionError(f"{path}: session version {meta.get('version')} is not supported (this app reads "
                           f"versions {', '.join(map(str, READABLE_SESSION_VERSIONS))})")
    try:
        settings_values, config_values, inputs = _problem_parts(meta, comparison)
        spec = registry.get_problem(comparison.problem)
        config = config_to_dict(config_from_dict(spec.config, config_values))
        settings = RunSettings(**settings_values)
        entries = {entry.key: entry for entry in spec.inputs}
        for key, info in inputs.items():
            if key not in entries:
                raise ValueError(f"problem {spec.name} has no input {key!r}")
            if entries[key].from_arrays is not None:
                entries[key].from_arrays(info.name, info.arrays)  # ValueError when the arrays do not fit
        spec.observation.check(comparison.observation, 1)
        traces = {name: LiveTrace.from_trace(trace) for name, trace in comparison.traces.items()}
    except (TypeError, ValueError, KeyError) as error:
        raise SessionError(f"{path}: the session cannot be opened ({' '.join(str(error).split())})") from None
    ground_truth = None if comparison.ground_truth is None else comparison.ground_truth[0]
    return Session(
        problem=spec.name, config=config, inputs=inputs,
        observation=ObservationInfo(comparison.observation[0], ground_truth, meta.get("observation", path)),
        settings=settings, traces=traces, x0=comparison.x0[0] if meta.get("has_run") else None,
        cursor=int(meta.get("cursor", 0)),
    )


def _problem_parts(meta: dict[str, Any], comparison: Comparison
                   ) -> tuple[dict[str, Any], dict[str, Any], dict[str, InputInfo]]:
    """(run settings, config, inputs) of a session of either version."""
    settings = dict(meta["settings"])
    if meta["version"] == 1:
        spec = registry.first_app_problem()
        comparison.problem = spec.name
        config, parts = spec.first_app.session_parts(settings, comparison.attachments, meta)
        return settings, config, {key: InputInfo(key, *part) for key, part in parts.items()}
    inputs = {key: InputInfo(key, saved["name"], saved["description"],
                             {name: comparison.attachments[_attachment(key, name)] for name in saved["arrays"]},
                             saved.get("path"))
              for key, saved in meta.get("inputs", {}).items()}
    return settings, dict(comparison.config), inputs
