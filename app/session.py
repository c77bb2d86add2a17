"""App sessions on disk: mesh, observation, run settings and every trace in one .npz (the engine's
Comparison format with the mesh attached), so that a session reopens exactly as it was saved."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from engine.trace import Comparison, TraceError

from .live_trace import LiveTrace
from .state import AppState, MeshInfo, ObservationInfo, RunSettings

SESSION_FORMAT = "feedbacklab-app-session"
SESSION_VERSION = 1


class SessionError(ValueError):
    """A session that cannot be saved or opened; one line naming the file and what to do."""


@dataclass
class Session:
    mesh: MeshInfo
    observation: ObservationInfo
    settings: RunSettings
    traces: dict[str, LiveTrace]
    x0: np.ndarray | None
    parameter_names: tuple[str, ...]
    cursor: int


def save_session(path: str, state: AppState) -> None:
    """Writes the session to path (.npz)."""
    if not path.lower().endswith(".npz"):
        raise SessionError(f"{path}: sessions are .npz files; choose a name ending in .npz")
    if state.mesh is None or state.observation is None:
        raise SessionError("nothing to save yet: load a mesh and make or open an observation first")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise SessionError(f"{path}: directory {directory} does not exist")
    comparison = state.comparison()
    comparison.meta.update({"format": SESSION_FORMAT, "version": SESSION_VERSION, "mesh_note": state.mesh.note,
                            "settings": asdict(state.settings), "cursor": state.cursor,
                            "has_run": state.x0 is not None})
    comparison.attachments = {"mesh_vertices": state.mesh.vertices, "mesh_faces": state.mesh.faces}
    try:
        comparison.save(path)
    except OSError as error:
        raise SessionError(f"{path}: cannot write the session ({error.strerror or error})") from None


def load_session(path: str) -> Session:
    """Reads a session written by save_session; SessionError otherwise."""
    try:
        comparison = Comparison.load(path)
    except TraceError as error:
        raise SessionError(str(error).replace("feedbacklab trace", "feedbacklab session")) from None
    meta = comparison.meta
    if meta.get("format") != SESSION_FORMAT or "mesh_vertices" not in comparison.attachments:
        raise SessionError(f"{path}: a solver trace, not an app session (it holds no mesh); open it with "
                           "`feedbacklab replay`, or save sessions with File > Save session")
    if meta.get("version") != SESSION_VERSION:
        raise SessionError(f"{path}: session version {meta.get('version')} is not supported (this app reads "
                           f"version {SESSION_VERSION})")
    try:
        settings = RunSettings(**meta["settings"])
        traces = {name: LiveTrace.from_trace(trace) for name, trace in comparison.traces.items()}
    except (TypeError, ValueError, KeyError) as error:
        raise SessionError(f"{path}: the session is damaged ({error}); save it again") from None
    ground_truth = None if comparison.ground_truth is None else comparison.ground_truth[0]
    return Session(
        mesh=MeshInfo(meta["mesh"], comparison.attachments["mesh_vertices"], comparison.attachments["mesh_faces"],
                      meta.get("mesh_note", "")),
        observation=ObservationInfo(comparison.observation[0], ground_truth, meta.get("observation", path)),
        settings=settings, traces=traces, x0=comparison.x0[0] if meta.get("has_run") else None,
        parameter_names=comparison.parameter_names, cursor=int(meta.get("cursor", 0)),
    )
