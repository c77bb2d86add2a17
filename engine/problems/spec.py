"""The problem contract: what every service (CLI, benchmark, recorder, summary, trace, worker, app) reads about
a problem, so that none of them knows a problem by name.

A problem is one folder, engine/problems/NAME/, whose __init__ exports SPEC, a ProblemSpec. The spec describes
(config, inputs, parameters, observation, metrics, pictures, slice axes, solvers); `spec.make` builds the
Problem itself, a batch of instances on one device:

    problem.batch_size, problem.device, problem.subset(index)
    problem.forward(x) -> prediction (B, *observation shape)        # the forward process, not differentiated
    problem.energy(prediction, observation, x) -> (B,)
    problem.metrics(x, prediction, observation, ground_truth) -> {key: (B,)}   # keys of spec.metrics
    problem.initial_estimate() -> (B, D);  problem.sample_ground_truth(generator) -> (B, D)
    problem.retract(x, dx) -> x (+) dx, dx (B, d) in the tangent space of the parameter manifold
    optional: problem.forward_differentiable(x, **options), problem.residuals(x, observation) -> (B, R)
              with energy == residuals.square().sum(1)
              problem.loaded_observation() -> (B, *observation shape) or None: an observation the inputs hold
              (a JPEG the user opened), solved as it is, its ground truth unknown

x is flat (B, D); a problem reshapes inside forward. D is the parameters' count, or, for a problem whose one
parameter group is of kind 'image', the size of an observation item (x is an image shaped like the
observation, spec.x_dimension).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np
import torch

from ..bounds import FLOAT_DEFAULT, INT_DEFAULT, Bound
from ..solvers.options import check_solver_options

STORAGES = ("float32", "unit-uint8")
AGGREGATES = ("mean", "median", "percent")
KINDS = ("euclidean", "quaternion", "rotation-vector", "image")
SOLVER_KINDS = ("optimizer", "learned", "chain", "closed-form")
"""Minimising an energy; a trained network; one solver's result refining another's; an estimate in one step
from the observation alone (a median of tracker boxes)."""


@dataclass(frozen=True)
class ArraySpec:
    """The shape and storage of one item of an observation (and so of a prediction).

    shape: per item, ints or names of sizes that vary ("H", "W"); storage: how traces keep it, 'float32'
    (exact) or 'unit-uint8' (values in [0, 1] as 0-255: exact for binary silhouettes, 1/255 steps otherwise)."""

    shape: tuple[int | str, ...]
    description: str
    storage: str = "float32"
    square: bool = False
    """Named sizes must be equal (square images)."""
    max_size: int | None = None
    """The problem's limit on each named size (pixels of a side): larger observations are refused before they are
    decoded."""
    max_items: int | None = None
    """The problem's limit on the items of one observation file (frames)."""

    def __post_init__(self) -> None:
        if self.storage not in STORAGES:
            raise ValueError(f"unknown storage {self.storage!r}; choose one of {', '.join(STORAGES)}")

    def describe(self) -> str:
        return "(" + ", ".join(str(size) for size in self.shape) + ")"

    def check(self, array: torch.Tensor | np.ndarray, batch: int | None = None, name: str = "observation") -> None:
        """ValueError naming the expected and the actual shape when `array` (B, *shape) does not fit."""
        shape = tuple(array.shape)
        expected = f"(B, {', '.join(str(size) for size in self.shape)})"
        if len(shape) != len(self.shape) + 1:
            raise ValueError(f"{name} must have shape {expected} ({self.description}), got {shape}")
        self.check_limits(shape, name)
        if batch is not None and shape[0] != batch:
            raise ValueError(f"{name} has {shape[0]} items for a batch of {batch} problems")
        named: dict[str, int] = {}
        for size, actual in zip(self.shape, shape[1:]):
            if isinstance(size, int) and size != actual:
                raise ValueError(f"{name} must have shape {expected} ({self.description}), got {shape}")
            if isinstance(size, str):
                named.setdefault(size, actual)
                if named[size] != actual:
                    raise ValueError(f"{name} must have shape {expected}: both {size} must agree, got {shape}")
        if self.square and len(set(named.values())) > 1:
            raise ValueError(f"{name} must be square ({self.description}), got {shape}")
        if isinstance(array, torch.Tensor) and array.is_floating_point() and not bool(torch.isfinite(array).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        if isinstance(array, np.ndarray) and array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values")

    def check_limits(self, shape: tuple[int, ...], name: str = "observation") -> None:
        """ValueError when a (B, *shape) observation is larger than the problem's limits: loaders call it with the
        shape a file's header gives, before reading the values."""
        if self.max_items is not None and shape and shape[0] > self.max_items:
            raise ValueError(f"{name} holds {shape[0]} items; this problem's limit is {self.max_items} per file, "
                             "so split it")
        sizes = [actual for size, actual in zip(self.shape, shape[1:]) if isinstance(size, str)]
        if self.max_size is not None and any(actual > self.max_size for actual in sizes):
            raise ValueError(f"{name} is {'x'.join(map(str, sizes))}, larger than this problem's limit of "
                             f"{self.max_size} per side; scale it down")

    def encode(self, values: np.ndarray) -> np.ndarray:
        """What a trace stores for float values of this spec (values already stored pass unchanged)."""
        if self.storage == "unit-uint8" and values.dtype == np.uint8:
            return values
        if self.storage == "unit-uint8":
            return (np.clip(values, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        return np.asarray(values, dtype=np.float32)

    @staticmethod
    def decode_stored(stored: np.ndarray) -> np.ndarray:
        """float32 values from what a trace stored (uint8 back to [0, 1])."""
        if stored.dtype == np.uint8:
            return stored.astype(np.float32) / 255.0
        return np.asarray(stored, dtype=np.float32)


@dataclass(frozen=True)
class ParameterGroup:
    """Consecutive coordinates of x that mean one thing: labels per coordinate, unit, and kind. A group of kind
    'image' has no labels: it is the whole x, an image of the observation's shape (values in [0, 1])."""

    name: str
    labels: tuple[str, ...]
    unit: str
    kind: str = "euclidean"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if (self.kind == "image") != (not self.labels):
            raise ValueError(f"parameter group {self.name}: an image group has no labels, every other one has some")


@dataclass(frozen=True)
class Metric:
    """One per-item metric a problem computes: its key in problem.metrics, how to show and aggregate it."""

    key: str
    label: str
    unit: str = ""
    format: str = "{:.3f}"
    aggregates: tuple[str, ...] = ("mean",)
    """'mean', 'median' (over the batch) or 'percent' (of items where the 0/1 flag is set)."""
    needs_ground_truth: bool = True
    lower_is_better: bool = True

    def __post_init__(self) -> None:
        unknown = [a for a in self.aggregates if a not in AGGREGATES]
        if unknown:
            raise ValueError(f"metric {self.key}: unknown aggregate(s) {unknown}; choose from {AGGREGATES}")

    @property
    def is_flag(self) -> bool:
        return self.aggregates == ("percent",)

    def header(self, aggregate: str) -> str:
        """Column header of one aggregate: 'Rot. mean (deg)', 'IoU', 'Outliers (%)'."""
        if aggregate == "percent":
            return f"{self.label} (%)"
        name = self.label if self.aggregates == ("mean",) else f"{self.label} {aggregate}"
        return f"{name} ({self.unit})" if self.unit else name

    def text(self, value: float) -> str:
        """One item's value with its unit: 'rotation error 2.31 deg', 'outlier: yes'."""
        if self.is_flag:
            return f"{self.label.lower().rstrip('s')}: {'yes' if value > 0.5 else 'no'}"
        return f"{self.label} {self.format.format(value)}" + (f" {self.unit}" if self.unit else "")


CENTRE = (0.5, 0.5)
"""A panel's default focus (Panel.follows_cursor)."""
PanelDraw = Callable[[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]
"""(observation item, prediction item, x item, ground truth item or None) -> (H, W, 3) uint8."""


@dataclass(frozen=True)
class Panel:
    """A picture of a solver's column, drawn from one item's observation, prediction and estimate."""

    key: str
    title: str
    draw: PanelDraw
    uses_config: bool = False
    """draw takes a fifth argument, the problem's config as a dict (config_to_dict): for pictures of what the
    config sets and the arrays do not hold, such as an energy's weights."""
    follows_cursor: bool = False
    """draw takes a keyword `focus`: where the user points, (x, y) as fractions of the observation's width and
    height (the app's cursor over the column's other pictures; the centre elsewhere), as a magnifier's."""

    def picture(self, observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None,
                config: dict[str, Any], focus: tuple[float, float] = CENTRE) -> np.ndarray:
        """The panel's (H, W, 3) uint8 picture of one item."""
        options: dict[str, Any] = {"focus": focus} if self.follows_cursor else {}
        if self.uses_config:
            return self.draw(observation, prediction, x, truth, config, **options)  # type: ignore[call-arg]
        return self.draw(observation, prediction, x, truth, **options)  # type: ignore[call-arg]


@dataclass(frozen=True)
class Viewpoint:
    """Where a rendered panel is seen from: a camera turned about the scene's centre by `azimuth` (about the
    camera's vertical axis, positive to the right of the object) and `elevation` (positive above it), radians.
    (0, 0) is the problem's own camera (CAMERA_VIEW); any other angles orbit the centre at the same distance."""

    azimuth: float = 0.0
    elevation: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.azimuth) and math.isfinite(self.elevation)):
            raise ValueError(f"viewpoint angles must be finite, got azimuth {self.azimuth}, elevation "
                             f"{self.elevation}")

    def camera_pose(self, center: np.ndarray, distance: float) -> np.ndarray:
        """(4, 4) camera-to-scene pose of a camera `distance` from `center` (scene coordinates), looking at it
        down its -z axis (engine.camera's convention): at (0, 0), from center + (0, 0, distance)."""
        ca, sa, ce, se = math.cos(self.azimuth), math.sin(self.azimuth), math.cos(self.elevation), \
            math.sin(self.elevation)
        yaw = np.array([[ca, 0.0, sa], [0.0, 1.0, 0.0], [-sa, 0.0, ca]])
        pitch = np.array([[1.0, 0.0, 0.0], [0.0, ce, se], [0.0, -se, ce]])  # tilts the camera down as it rises
        pose = np.eye(4)
        pose[:3, :3] = yaw @ pitch
        pose[:3, 3] = np.asarray(center, dtype=np.float64) + pose[:3, 2] * distance
        return pose


CAMERA_VIEW = Viewpoint()
"""The problem's own camera: what recordings show."""
RenderedPanelDraw = Callable[["Problem", np.ndarray, "np.ndarray | None", Viewpoint], np.ndarray]
"""(problem, a batch of one; x item (D,); ground truth item (D,) or None; viewpoint) -> (H, W, 3) uint8."""


@dataclass(frozen=True)
class RenderedPanel:
    """A picture of a solver's column that the problem renders itself from what it loaded, such as its mesh
    posed at the estimate over the ground truth, seen from a Viewpoint the user can turn. It needs the built
    problem (its inputs) and, for a GL renderer, the engine's process: the app asks the engine for it
    (worker protocol RenderPanel) and recordings draw it from CAMERA_VIEW where the problem is at hand."""

    key: str
    title: str
    render: RenderedPanelDraw


@dataclass(frozen=True)
class Legend:
    """Colour swatches explaining the panels: (label, RGB)."""

    title: str
    entries: tuple[tuple[str, tuple[int, int, int]], ...]


@dataclass(frozen=True)
class SliceAxis:
    """A direction of the energy slice: `move(center (N, D), offsets (N,)) -> (N, D)` in display units, and
    `coordinate(path (T, D), center (D,)) -> (T,)`, a path's position along it."""

    key: str
    label: str
    unit: str
    span: float
    """Default half-width of the slice, display units."""
    move: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    coordinate: Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class InputSpec:
    """Something the user loads for a problem: a mesh, a motion file, a body model. `load(text or None)`
    returns the loaded value (None: the built-in default) or raises ValueError with a one-line reason."""

    key: str
    label: str
    help: str
    load: Callable[[str | None], Any]
    extensions: tuple[str, ...] = ()
    describe: Callable[[Any], str] = str
    """One line about a loaded value, for messages."""
    to_arrays: Callable[[Any], dict[str, np.ndarray]] | None = None
    """A loaded value as plain arrays (for sessions and for giving a restarted engine what the app holds) ..."""
    from_arrays: Callable[[str, dict[str, np.ndarray]], Any] | None = None
    """... and back: (name, arrays) -> value; ValueError (one line) when the arrays do not fit."""
    name_of: Callable[[Any], str] = str
    """A loaded value's short name ('car-001')."""


@dataclass(frozen=True)
class SolverEntry:
    """A solver a problem offers: kind (one of SOLVER_KINDS), one line, and its factory
    (**overrides) -> solver. Generic solvers come from engine.solvers.generic; problems add their own."""

    name: str
    kind: str
    description: str
    factory: Callable[..., Any]
    update_rule: str = ""
    """The rule that makes dx_t, for the teach panel."""


LessonFrames = dict[str, list[dict[str, Any]]]
"""Training runs by name, each one frame per training step: plain numbers and NumPy arrays."""


@dataclass(frozen=True)
class EnergyLesson:
    """The app's Learn tab for a problem whose energy is learned through its minima (Wibergian learning).

    run(config, observation item, ground truth item or None, steps) trains the energy from its untrained
    weights (in the engine) and returns LessonFrames; draw(frames, step, observation item, ground truth item or
    None) pictures every run at one training step as (H, W, 3) uint8 (in the app, as panels are)."""

    title: str
    explanation: str
    run: Callable[[Any, np.ndarray, "np.ndarray | None", int], LessonFrames]
    draw: Callable[[LessonFrames, int, np.ndarray, "np.ndarray | None"], np.ndarray]
    steps: int = 200
    """Training steps of the lesson."""


@dataclass(frozen=True)
class FirstAppFiles:
    """How files of the first app (before the contract, when it held one problem alone) read as this problem's:
    session_parts(run settings, attachments, meta) -> (config, {input key: (name, description, arrays)}),
    taking the problem's own settings out of the run settings; recent_kinds: the file kinds its recent list
    named without a problem ('mesh', 'observation')."""

    session_parts: Callable[[dict[str, Any], dict[str, np.ndarray], dict[str, Any]],
                            tuple[dict[str, Any], dict[str, tuple[str, str, dict[str, np.ndarray]]]]]
    recent_kinds: tuple[str, ...]


@dataclass(frozen=True)
class Command:
    """A problem's subcommand: `feedbacklab VERB NAME ...` (verb 'bench' or 'train'); run(args) -> exit code."""

    verb: str
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class Problem(Protocol):
    """What solvers and services need from a batch of problem instances (see the module docstring)."""

    parameter_names: tuple[str, ...]
    observation_spec: ArraySpec

    @property
    def batch_size(self) -> int: ...

    @property
    def device(self) -> torch.device: ...

    def subset(self, index: torch.Tensor) -> "Problem": ...

    def forward(self, x: torch.Tensor) -> torch.Tensor: ...

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor: ...

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]: ...

    def initial_estimate(self) -> torch.Tensor: ...

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor: ...

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class ProblemSpec:
    """Everything the workbench knows about one problem."""

    name: str
    title: str
    summary: str
    """One line for `feedbacklab problems`."""
    config: type
    """A frozen dataclass; each field's docstring is its CLI help and app tooltip."""
    inputs: tuple[InputSpec, ...]
    make: Callable[..., Problem]
    """(config, inputs: {key: loaded value}, device, batch_size: int | None) -> Problem."""
    parameters: tuple[ParameterGroup, ...]
    tangent_dim: int
    """d of the tangent space in which retract moves; 0 for an image, whose problem.tangent_dim is its size."""
    observation: ArraySpec
    load_observation: Callable[[str], np.ndarray]
    """A file to (B, *shape) float32; ValueError with a one-line reason."""
    save_observation: Callable[[str, np.ndarray], None]
    observation_extensions: tuple[str, ...]
    parse_x: Callable[[str, Any], torch.Tensor]
    """(text, config) -> (1, D) or (B, D): a ground truth or initial estimate typed by the user."""
    format_x: Callable[[np.ndarray], str]
    """(D,) -> the text parse_x reads back."""
    metrics: tuple[Metric, ...]
    panels: tuple[Panel, ...]
    legend: Legend | None
    slice_axes: tuple[SliceAxis, ...]
    solvers: tuple[SolverEntry, ...]
    default_solvers: tuple[str, ...]
    x_hint: str = ""
    """What parse_x reads, for help texts: 'qw,qx,qy,qz,tx,ty,tz'."""
    capabilities: frozenset[str] = frozenset()
    """'differentiable' (forward_differentiable), 'residuals', 'hessian' (an energy twice differentiable through
    forward_differentiable: trust-region Newton), 'train' (a learned solver's trainer)."""
    commands: tuple["Command", ...] = ()
    """The problem's `bench` and `train` subcommands (its paper's tables, its trainer)."""
    gradient_options: dict[str, Any] | None = None
    """forward_differentiable options under which its gradient is exact, for the contract's gradient check
    (pose6d: SoftRas; NMR's gradient is approximate by design); None: no differentiable forward."""
    check_observation: Callable[[np.ndarray], None] | None = None
    """Raises ValueError (one line) for an observation the forward process made that cannot be solved (pose6d:
    an empty silhouette, the object outside the image)."""
    draw_observation: Callable[[np.ndarray], np.ndarray] | None = None
    """One observation item as an (H, W, 3) uint8 picture, for the app's side panel and teach tab."""
    fit_config: Callable[[Any, np.ndarray], Any] | None = None
    """(config, observation) -> the config that fits a loaded observation (pose6d: its image size)."""
    first_app: FirstAppFiles | None = None
    """Set on the one problem the first app held (pose6d), so that its sessions and recent files still open."""
    prediction_label: str = "prediction"
    """What a prediction is called in the views ('rendering', 'joints')."""
    lesson: EnergyLesson | None = None
    """The teaching demo of learning the problem's energy, for problems that learn one."""
    save_estimate: Callable[[str, np.ndarray, np.ndarray], None] | None = None
    """(path, x item (D,), observation item) writes a final estimate as a file of its own (jpeg: the restored
    image), for `solve --out`."""
    estimate_extensions: tuple[str, ...] = ()
    """The files save_estimate writes."""
    rendered_panels: tuple[RenderedPanel, ...] = ()
    """Pictures the problem renders from its inputs at an estimate (pose6d: the shaded mesh over the ground
    truth), shown after the panels in the app's columns and in recordings."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(label for group in self.parameters for label in group.labels)

    @property
    def x_is_image(self) -> bool:
        """x is an image shaped like the observation (a parameter group of kind 'image')."""
        return any(group.kind == "image" for group in self.parameters)

    def x_dimension(self, observation_shape: tuple[int, ...]) -> int:
        """D of an estimate for observation items of this shape: the parameters' count, or the item's size for
        an image."""
        if self.x_is_image:
            return int(np.prod(observation_shape))
        return len(self.parameter_names)

    def metric(self, key: str) -> Metric:
        return next(metric for metric in self.metrics if metric.key == key)

    def solver(self, name: str) -> SolverEntry:
        """The named solver; ValueError naming the choices."""
        for entry in self.solvers:
            if entry.name == name:
                return entry
        raise ValueError(f"problem {self.name} has no solver {name!r}; choose from {self.solver_names()}")

    def solver_names(self) -> str:
        return ", ".join(entry.name for entry in self.solvers)

    def parse_solvers(self, text: str) -> list[str]:
        """'adam,lm' to names this problem offers; ValueError naming the unknown ones and the choices."""
        names = [name.strip() for name in text.split(",") if name.strip()]
        known = {entry.name for entry in self.solvers}
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            raise ValueError(f"problem {self.name} cannot run solver(s) {', '.join(unknown) or '(none)'}; "
                             f"choose from {self.solver_names()}")
        if len(set(names)) != len(names):
            raise ValueError(f"solver list {text!r} names a solver twice")
        return names

    def make_solver(self, name: str, **overrides: Any) -> Any:
        """The named solver with these options; ValueError (one line) for a shared option out of its range."""
        return self.solver(name).factory(**check_solver_options(overrides))

    def check_start(self, problem: Problem, x0: torch.Tensor, name: str = "initial estimate") -> None:
        """ValueError (one line, naming it) for an initial estimate whose prediction no solver can start from
        (check_observation: pose6d's object outside the image gives no silhouette to compare)."""
        if self.check_observation is None:
            return
        try:
            self.check_observation(problem.forward(x0).detach().float().cpu().numpy())
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None

    def slice_axis(self, key: str) -> SliceAxis:
        for axis in self.slice_axes:
            if axis.key == key:
                return axis
        raise ValueError(f"problem {self.name} has no slice axis {key!r}; choose from "
                         f"{', '.join(axis.key for axis in self.slice_axes)}")


def loaded_observation(problem: Problem) -> torch.Tensor | None:
    """The observation a problem's inputs hold (Problem.loaded_observation), or None: make one by forward."""
    given = getattr(problem, "loaded_observation", None)
    return None if given is None else given()


def parse_numbers(text: str, count: int, what: str, hint: str) -> torch.Tensor:
    """(1, count) from `count` comma-separated finite numbers; ValueError naming `what` (the problem's estimate)
    and what to give instead (`hint`)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = None
    if values is None or len(values) != count or not np.isfinite(values).all():
        wrong = ("is not comma-separated numbers" if values is None else f"has {len(values)} numbers"
                 if len(values) != count else "has a NaN or infinite number")
        raise ValueError(f"{what} {text[:40]!r} {wrong}: give {hint}")
    return torch.tensor([values], dtype=torch.float32)


def format_numbers(x: np.ndarray) -> str:
    """An estimate (D,) as comma-separated numbers (the ProblemSpec.format_x of problems that parse them back)."""
    return ",".join(f"{float(v):.4f}" for v in np.asarray(x).reshape(-1))


# --- config dataclasses: fields, their docstrings, and values from text ----------------------------------------

def bounded(default: Any, low: float, high: float, low_open: bool = False, aliases: tuple[str, ...] = ()) -> Any:
    """A config field's default and its allowed range, declared once: `--help` shows it and every config made
    from flags, app settings or a session is checked against it (a tuple field: each of its numbers). aliases:
    extra flags for the field (pose6d's --size for --image-size)."""
    bound = Bound(low, high, low_open, integer=isinstance(default, int) and not isinstance(default, bool))
    return field(default=default, metadata={"bound": bound, "aliases": aliases})


def check_config(config: Any, label: Callable[[str], str] | None = None) -> None:
    """ValueError (one line, naming the flag, or what label(field name) calls it) for a number outside its
    field's bound; numbers without a declared bound must still be finite and of a sane size."""
    for f in config_fields(type(config)):
        if f.bound is not None:
            f.bound.check(label(f.name) if label else f.flags, getattr(config, f.name))


@dataclass(frozen=True)
class ConfigField:
    name: str
    type: type
    default: Any
    help: str
    bound: Bound | None = None
    """The numbers' allowed range (None for text and true/false)."""
    aliases: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def flags(self) -> str:
        """The flag with its aliases, for messages: '--image-size (--size)'."""
        return self.flag + (f" ({', '.join(self.aliases)})" if self.aliases else "")

    def parse(self, text: str) -> Any:
        """The field's value from text; ValueError naming the flag."""
        try:
            if self.type is bool:
                lowered = text.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return lowered in ("true", "1", "yes")
            if self.type is tuple:
                return tuple(float(part) for part in text.split(",") if part.strip())
            return self.type(text)
        except ValueError:
            limits = f" {self.bound.describe()}" if self.bound is not None else ""
            raise ValueError(f"{self.flags} {text!r}: expected {self.type_name}{limits}") from None

    @property
    def type_name(self) -> str:
        return {int: "an integer", float: "a number", str: "text", bool: "true or false",
                tuple: "comma-separated numbers"}[self.type]


def config_fields(config_class: type) -> tuple[ConfigField, ...]:
    """The fields of a config dataclass with their docstrings (the string literal after each field)."""
    docs = _field_docstrings(config_class)
    hints = typing.get_type_hints(config_class)
    fields = []
    for f in dataclasses.fields(config_class):
        hint = hints[f.name]
        kind = tuple if typing.get_origin(hint) is tuple else hint
        if kind not in (int, float, str, bool, tuple):
            raise TypeError(f"{config_class.__name__}.{f.name}: config fields must be int, float, str, bool or tuple")
        fields.append(ConfigField(f.name, kind, f.default, docs.get(f.name, ""), _bound(f, kind),
                                  f.metadata.get("aliases", ())))
    return tuple(fields)


def _bound(f: dataclasses.Field, kind: type) -> Bound | None:
    if kind in (str, bool):
        return None
    return f.metadata.get("bound") or (INT_DEFAULT if kind is int else FLOAT_DEFAULT)


def _field_docstrings(config_class: type) -> dict[str, str]:
    """The docstrings of the class's fields and of those it inherits from dataclass bases (its own win)."""
    import ast
    import inspect
    import textwrap

    docs = {}
    for base in reversed(config_class.__mro__):
        if base is config_class or not dataclasses.is_dataclass(base):
            continue
        docs.update(_field_docstrings(base))
    tree = ast.parse(textwrap.dedent(inspect.getsource(config_class)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    for previous, node in zip(body, body[1:]):
        if (isinstance(previous, ast.AnnAssign) and isinstance(previous.target, ast.Name)
                and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            docs[previous.target.id] = " ".join(node.value.value.split())
    return docs


def add_config_arguments(parser: argparse.ArgumentParser, config_class: type, exclude: tuple[str, ...] = ()) -> None:
    """One flag per config field (and its aliases) but those excluded, help from its docstring; unset flags stay
    None (the default applies)."""
    for f in config_fields(config_class):
        if f.name in exclude:
            continue
        default = ",".join(f"{v:g}" for v in f.default) if f.type is tuple else f.default
        limits = f"; {f.bound.describe()}" if f.bound is not None else ""
        parser.add_argument(f.flag, *f.aliases, dest=f"config_{f.name}",
                            metavar=f.type.__name__.upper(), help=f"{f.help} (default: {default}{limits})")


def config_from_arguments(config_class: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """The config of the flags given (add_config_arguments), with the `fixed` values for fields not flags."""
    values = dict(fixed)
    for f in config_fields(config_class):
        text = getattr(args, f"config_{f.name}", None)
        if text is not None:
            values[f.name] = f.parse(text)
    return make_config(config_class, values)


def make_config(config_class: type, values: dict[str, Any]) -> Any:
    """The config with these values; ValueError (one line) when the dataclass or a field's bound rejects them."""
    try:
        config = config_class(**values)
    except TypeError as error:
        raise ValueError(f"{config_class.__name__}: {error}") from None
    check_config(config)
    return config


def replace_config(config: Any, changes: dict[str, Any]) -> Any:
    """The config with these fields changed, checked like any made config (make_config)."""
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    return make_config(type(config), {**values, **changes})


def config_to_dict(config: Any) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(config).items()}


def config_from_dict(config_class: type, values: dict[str, Any]) -> Any:
    """A config from a saved or typed dict; ValueError (one line, naming the flag) for an unknown field or a value
    of the wrong type (the dataclass itself does not check types): such values are read as their text."""
    known = {f.name: f for f in config_fields(config_class)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{config_class.__name__} has no setting(s) {', '.join(unknown)}")
    typed = {}
    for name, value in values.items():
        f = known[name]
        if isinstance(value, f.type) and not (f.type is int and isinstance(value, bool)):
            typed[name] = value
        else:
            typed[name] = f.parse(",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))
    return make_config(config_class, typed)


@dataclass
class Instances:
    """A problem batch with its observation and (when known) ground truth, ready to solve."""

    problem: Any
    observation: torch.Tensor
    ground_truth: torch.Tensor | None
    meta: dict[str, Any] = field(default_factory=dict)
