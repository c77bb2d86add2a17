"""The worker protocol: the only way the app talks to the engine.

Commands go to the engine process through one queue, results come back through another. Every message is a
small picklable dataclass of plain Python values, NumPy arrays and the engine's NumPy-only trace containers (no
tensors), so either side can be replaced or restarted without the other noticing more than a pause.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..trace import Comparison


# --- commands (app -> engine) ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoadMesh:
    """Load a mesh file, a procedural object name ('chair-7'), or the built-in default (None)."""

    spec: str | None


@dataclass(frozen=True)
class SetMesh:
    """Use a mesh the app already holds (normalised vertices and faces): restores a session or a restart."""

    name: str
    vertices: np.ndarray
    faces: np.ndarray


@dataclass(frozen=True)
class NewObservation:
    """Render an observation of the loaded mesh at a ground-truth pose: the one given, or a random one."""

    pose: tuple[float, ...] | None = None
    seed: int = 0
    image_size: int = 128


@dataclass(frozen=True)
class LoadObservation:
    """Read a silhouette image (PNG/JPG); its ground truth is unknown."""

    path: str


@dataclass(frozen=True)
class SetObservation:
    """Use an observation the app already holds."""

    image: np.ndarray
    ground_truth: np.ndarray | None
    source: str


@dataclass(frozen=True)
class Run:
    """Start the named solvers side by side from x0 (None: the problem's initial estimate); `paused` starts
    them without computing, for stepping one iteration at a time."""

    solvers: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    x0: tuple[float, ...] | None = None
    paused: bool = False


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Advance:
    """Compute one more iteration of every unfinished solver, then stay paused."""


@dataclass(frozen=True)
class Cancel:
    """Stop the run; what was computed so far stays with the app."""


@dataclass(frozen=True)
class EnergySlice:
    """The data energy on a grid over two slice axes (engine.energy_slice.SLICE_AXES) around `center`."""

    center: tuple[float, ...]
    axes: tuple[str, str]
    span: tuple[float, float]
    resolution: int = 15


@dataclass(frozen=True)
class Export:
    """Record the comparison to `path` (.gif or .mp4), reporting progress."""

    comparison: Comparison
    path: str
    fps: int = 10
    max_frames: int = 120


@dataclass(frozen=True)
class Shutdown:
    pass


# --- results (engine -> app) ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ready:
    """The engine process started; `device` is where it computes."""

    device: str


@dataclass(frozen=True)
class MeshLoaded:
    name: str
    vertices: np.ndarray
    faces: np.ndarray
    note: str = ""
    """E.g. that the mesh was simplified."""
    path: str | None = None
    """The file it was read from (None: built-in, procedural, or given by the app)."""


@dataclass(frozen=True)
class ObservationReady:
    image: np.ndarray
    """(H, W) float32 silhouette in {0, 1}."""
    ground_truth: np.ndarray | None
    """(D,) or None when unknown."""
    source: str
    path: str | None = None
    """The image file it was read from (None: rendered, or given by the app)."""


@dataclass(frozen=True)
class RunStarted:
    solvers: tuple[str, ...]
    x0: np.ndarray
    parameter_names: tuple[str, ...]
    settings: dict[str, dict[str, Any]]
    """Solver name -> its parameters, for the record."""


@dataclass(frozen=True)
class IterationDone:
    """One solver's record t (batch of one, batch dimension dropped)."""

    solver: str
    index: int
    x: np.ndarray
    rendering: np.ndarray
    """(H, W) uint8."""
    energy: float
    update: np.ndarray
    elapsed: float
    step_seconds: float
    status: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class SolverFailed:
    """One solver of the run raised an error and stopped; the others go on."""

    solver: str
    message: str


@dataclass(frozen=True)
class RunFinished:
    cancelled: bool


@dataclass(frozen=True)
class EnergySliceReady:
    center: np.ndarray
    axes: tuple[str, str]
    coordinates: tuple[np.ndarray, np.ndarray]
    """Grid values along each axis (degrees for rotations, metres for translations)."""
    energy: np.ndarray
    """(len(coordinates[1]), len(coordinates[0])) energy, rows along the second axis."""


@dataclass(frozen=True)
class ExportProgress:
    done: int
    total: int


@dataclass(frozen=True)
class ExportFinished:
    path: str
    frames: int


@dataclass(frozen=True)
class Failed:
    """A command could not be carried out; `message` is one line for the user."""

    command: str
    message: str
