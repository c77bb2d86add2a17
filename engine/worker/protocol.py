"""The worker protocol: the only way the app talks to the engine.

Commands go to the engine process through one queue, results come back through another. Every message is a
small picklable dataclass of plain Python values, NumPy arrays and the engine's NumPy-only trace containers (no
tensors), so either side can be replaced or restarted without the other noticing more than a pause.

Nothing here names a problem: observations, predictions and estimates are shaped as the current problem's
spec says (engine.problems.spec), and the app learns which problem the engine holds from ProblemChanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..problems.spec import Viewpoint
from ..trace import Comparison


# --- commands (app -> engine) ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SetProblem:
    """Switch to the named problem, or change its config ({field: value}; missing fields take their defaults).
    The engine stops any run and forgets the inputs and observation that no longer fit."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadInput:
    """Load one of the problem's inputs (spec.inputs key, e.g. 'mesh') from text (a file, a name), or its
    built-in default (None)."""

    key: str
    text: str | None = None


@dataclass(frozen=True)
class SetInput:
    """Use an input the app already holds (InputSpec.to_arrays): restores a session or a restarted engine."""

    key: str
    name: str
    arrays: dict[str, np.ndarray]


@dataclass(frozen=True)
class NewObservation:
    """A batch of one through problem.forward: at the given ground truth x (D,), or at one the problem's
    sampler draws from `seed`."""

    ground_truth: tuple[float, ...] | None = None
    seed: int = 0


@dataclass(frozen=True)
class LoadObservation:
    """Read an observation file (spec.load_observation) holding exactly one item; its ground truth is unknown."""

    path: str


@dataclass(frozen=True)
class SetObservation:
    """Use an observation the app already holds: (*item shape) and its ground truth (D,) when known."""

    observation: np.ndarray
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
    """The energy on a grid over two of the problem's slice axes (SliceAxis keys) around `center` (D,)."""

    center: tuple[float, ...]
    axes: tuple[str, str]
    span: tuple[float, float]
    resolution: int = 15


@dataclass(frozen=True)
class Learn:
    """Run the problem's lesson of learning its energy (spec.lesson) on the current observation."""

    steps: int | None = None
    """Training steps; None: the lesson's own."""


@dataclass(frozen=True)
class Export:
    """Record the comparison to `path` (.gif or .mp4), reporting progress."""

    comparison: Comparison
    path: str
    fps: int = 10
    max_frames: int = 120


@dataclass(frozen=True)
class RenderPanel:
    """Draw one of the problem's rendered panels (spec.rendered_panels key) of the problem and inputs the engine
    holds, at the estimate x (D,) with the ground truth (D,) when known, seen from `viewpoint`."""

    panel: str
    x: np.ndarray
    ground_truth: np.ndarray | None
    viewpoint: Viewpoint
    tag: int = 0
    """The app's number for the request, echoed with the answer: which of its requests it answers."""


@dataclass(frozen=True)
class Shutdown:
    pass


# --- results (engine -> app) ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ready:
    """The engine process started on `device` with `problems` registered; it holds the default problem."""

    device: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProblemChanged:
    """The engine now holds this problem with this config (engine.problems.spec.config_to_dict)."""

    name: str
    config: dict[str, Any]
    inputs_kept: tuple[str, ...] = ()
    """The keys of the inputs that still fit (none when the problem itself changed)."""
    observation_kept: bool = False
    """The observation (and ground truth) still fits and stays."""


@dataclass(frozen=True)
class InputLoaded:
    key: str
    name: str
    """Short name ('car-001')."""
    description: str
    """One line for messages (InputSpec.describe)."""
    arrays: dict[str, np.ndarray]
    """InputSpec.to_arrays of the value, {} when the problem cannot give it as arrays."""
    path: str | None = None
    """The file it was read from (None: built-in, a name, or given by the app)."""
    observation_kept: bool = True
    """False when the observation no longer fits the problem with this input and was forgotten."""


@dataclass(frozen=True)
class ObservationReady:
    observation: np.ndarray
    """(*item shape) float32, as spec.observation describes."""
    ground_truth: np.ndarray | None
    """(D,) or None when unknown."""
    source: str
    path: str | None = None
    """The file it was read from (None: made by the forward process, or given by the app)."""


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
    prediction: np.ndarray
    """(*item shape) what the solver's forward process made of x, in the problem's storage (ArraySpec): float32
    exactly, or uint8 for binary silhouettes (a quarter of the memory; decode_stored reads it back)."""
    energy: float
    update: np.ndarray
    elapsed: float
    step_seconds: float
    status: int
    metrics: dict[str, float]
    info: dict[str, float] = field(default_factory=dict)
    """The solver's step information (LM: damping, accepted, gain_ratio)."""
    failure: str = ""
    """Why the solver failed on the item; '' when it has not."""


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
    """SliceAxis keys."""
    coordinates: tuple[np.ndarray, np.ndarray]
    """Grid values along each axis, in the axis' display unit."""
    energy: np.ndarray
    """(len(coordinates[1]), len(coordinates[0])) energy, rows along the second axis."""


@dataclass(frozen=True)
class LessonReady:
    frames: dict[str, list[dict[str, Any]]]
    """spec.lesson's runs, one frame per training step (engine.problems.spec.LessonFrames)."""
    steps: int


@dataclass(frozen=True)
class PanelRendered:
    """The answer to a RenderPanel, which it carries: the (H, W, 3) uint8 picture, or why there is none."""

    request: RenderPanel
    image: np.ndarray | None
    error: str = ""


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
    """A command could not be carried out; `message` is one line for the user. The engine keeps what it had."""

    command: str
    message: str
