"""Traces: every iteration of every solver on the same problems, saved to and loaded from one .npz file.

A Trace collects one solver's Iteration records; a Comparison holds the problems' observations, ground truth
and initial estimate beside one Trace per solver, with the problem's name and config. The file is a NumPy .npz
(no pickles) whose 'meta.json' entry holds the metadata as JSON. Predictions are stored as the problem's
observation spec says (ArraySpec.storage): float32 exactly, or binary-silhouette images as uint8 0-255; they
are never quantized otherwise. Version 1 files (pose6d only, renderings as uint8) still load.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .npfiles import NumpyFileError, read_npz
from .outputs import atomic_path
from .problems.spec import ArraySpec
from .solvers.base import Iteration

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


class TraceError(ValueError):
    """A trace file that cannot be read; the message names the file and what is wrong."""


@dataclass
class Trace:
    """One solver's run over a batch: arrays indexed [iteration, item, ...]."""

    solver: str
    x: np.ndarray
    """(T, B, D) estimates."""
    energy: np.ndarray
    """(T, B)"""
    update: np.ndarray
    """(T, B, D)"""
    elapsed: np.ndarray
    """(T,) seconds of solver computation up to and including iteration t."""
    step_seconds: np.ndarray
    """(T,) seconds iteration t took for the whole batch."""
    computed: np.ndarray
    """(T, B) bool: item computed in iteration t."""
    status: np.ndarray
    """(T, B) int Status after iteration t."""
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    """name -> (T, B)"""
    predictions: np.ndarray | None = None
    """(T, B, *observation shape) as stored (see ArraySpec.storage), or None when not kept; read them
    with prediction()."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The solver's parameters, for the record."""
    info: dict[str, np.ndarray] = field(default_factory=dict)
    """name -> (T, B) the solver's step information (LM: damping, accepted, gain_ratio)."""
    failures: dict[int, str] = field(default_factory=dict)
    """item -> why the solver failed on it."""

    @classmethod
    def collect(
        cls, solver: str, iterations: Iterable[Iteration], storage: ArraySpec | None = None,
        settings: dict[str, Any] | None = None,
    ) -> "Trace":
        """Runs the iterations to the end and stacks their records; predictions are kept (encoded as
        `storage` says) unless storage is None."""
        rows, encoded, failures = [], [], {}
        for record in iterations:
            # Each record becomes NumPy copies at once, its prediction encoded or dropped: holding the records'
            # tensors to the end kept every prediction (a 256 px RGB batch per iteration) alive.
            if storage is not None:
                encoded.append(storage.encode(record.prediction.detach().float().cpu().numpy()))
            rows.append(_row(record))
            failures = dict(record.failures)
        if not rows:
            raise ValueError(f"solver {solver!r} produced no iterations")
        stack = lambda key: np.stack([row[key] for row in rows])  # noqa: E731
        info_names = dict.fromkeys(key for row in rows for key in row["info"])
        nan = np.full(rows[0]["x"].shape[0], np.nan, np.float32)  # where a solver records no such information
        return cls(
            solver=solver,
            x=stack("x"),
            energy=stack("energy"),
            update=stack("update"),
            elapsed=np.array([row["elapsed"] for row in rows]),
            step_seconds=np.array([row["step_seconds"] for row in rows]),
            computed=stack("computed"),
            status=stack("status"),
            metrics={name: np.stack([row["metrics"][name] for row in rows]) for name in rows[0]["metrics"]},
            predictions=np.stack(encoded) if storage is not None else None,
            settings=dict(settings or {}),
            info={name: np.stack([row["info"].get(name, nan) for row in rows]) for name in info_names},
            failures=failures,
        )

    @property
    def num_iterations(self) -> int:
        return self.x.shape[0]

    @property
    def batch_size(self) -> int:
        return self.x.shape[1]

    def steps(self) -> np.ndarray:
        """(B,) updates applied to each item."""
        return np.maximum(self.computed.sum(0) - 1, 0)

    def last_index(self) -> np.ndarray:
        """(B,) iteration at which each item was last computed."""
        return self.num_iterations - 1 - np.argmax(self.computed[::-1], axis=0)

    def final(self, name: str) -> np.ndarray:
        """(B,) a metric ('energy' or a metric name) at each item's last iteration."""
        values = self.energy if name == "energy" else self.metrics[name]
        return values[self.last_index(), np.arange(self.batch_size)]

    def seconds_per_item(self) -> np.ndarray:
        """(B,) each item's share of the batch's computation time: every iteration's time is split evenly
        between the items computed in it."""
        share = self.step_seconds[:, None] * self.computed / np.maximum(self.computed.sum(1, keepdims=True), 1)
        return share.sum(0)

    def prediction(self, k: int, item: int) -> np.ndarray:
        """Iteration k's prediction of one item, float32 (decoded from its storage)."""
        if self.predictions is None:
            raise ValueError(f"trace {self.solver!r} was saved without predictions; solve again keeping them")
        return ArraySpec.decode_stored(self.predictions[k, item])

    def at(self, t: int) -> np.ndarray:
        """Iteration index to show for each item at timeline position t (stopped items hold their last)."""
        return np.minimum(t, self.last_index())

    def _arrays(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {"x": self.x, "energy": self.energy, "update": self.update, "elapsed": self.elapsed,
                  "step_seconds": self.step_seconds, "computed": self.computed, "status": self.status}
        arrays.update({f"metric.{name}": value for name, value in self.metrics.items()})
        arrays.update({f"info.{name}": value for name, value in self.info.items()})
        if self.predictions is not None:
            arrays["predictions"] = self.predictions
        return {f"{prefix}{key}": value for key, value in arrays.items()}

    @classmethod
    def _from_arrays(cls, solver: str, arrays: dict[str, np.ndarray], settings: dict[str, Any],
                     failures: dict[str, str]) -> "Trace":
        def group(prefix: str) -> dict[str, np.ndarray]:
            return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}

        predictions = arrays.get("predictions", arrays.get("renderings"))  # version 1 called them renderings
        return cls(solver=solver, x=arrays["x"], energy=arrays["energy"], update=arrays["update"],
                   elapsed=arrays["elapsed"], step_seconds=arrays["step_seconds"], computed=arrays["computed"],
                   status=arrays["status"], metrics=group("metric."), predictions=predictions, settings=settings,
                   info=group("info."), failures={int(item): reason for item, reason in failures.items()})


def _check_trace(trace: Trace, observation_shape: tuple[int, ...], dim: int) -> None:
    """One solver's arrays agree with each other and with the comparison's observation and parameters."""
    steps, batch = len(trace.x), observation_shape[0]
    if steps < 1:
        raise ValueError(f"solver {trace.solver} has no iterations")
    per_item = {"x": (steps, batch, dim), "update": (steps, batch, dim), "energy": (steps, batch),
                "computed": (steps, batch), "status": (steps, batch), "elapsed": (steps,), "step_seconds": (steps,)}
    per_item.update({f"metric.{name}": (steps, batch) for name in trace.metrics})
    per_item.update({f"info.{name}": (steps, batch) for name in trace.info})
    if trace.predictions is not None:
        per_item["predictions"] = (steps, *observation_shape)
    arrays = trace._arrays("")
    for key, shape in per_item.items():
        finite = key in ("x", "update", "energy", "elapsed", "step_seconds")
        _check_shape(f"solver {trace.solver}'s {key}", arrays[key], shape, finite)


def _check_shape(name: str, array: np.ndarray, shape: tuple[int, ...], finite: bool = True) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape} where {shape} belongs")
    _check_numbers(name, array, finite=finite)


def _check_numbers(name: str, array: np.ndarray, minimum_rank: int = 0, finite: bool = True) -> None:
    if array.ndim < minimum_rank or array.dtype.kind not in "biuf":
        raise ValueError(f"{name} is not an array of numbers (dtype {array.dtype}, shape {array.shape})")
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")


def _row(record: Iteration) -> dict[str, Any]:
    """A record's numbers as NumPy copies (its prediction aside)."""
    numpy = lambda tensor: tensor.detach().cpu().numpy().copy()  # noqa: E731
    return {"x": numpy(record.x), "energy": numpy(record.energy), "update": numpy(record.update),
            "computed": numpy(record.computed), "status": numpy(record.status), "elapsed": record.elapsed,
            "step_seconds": record.step_seconds,
            "metrics": {name: numpy(value) for name, value in record.metrics.items()},
            "info": {name: numpy(value) for name, value in record.info.items()}}


@dataclass
class Comparison:
    """Several solvers' traces on the same problems."""

    problem: str
    """Problem name, e.g. 'pose6d'."""
    observation: np.ndarray
    """(B, *observation shape) float32 observations."""
    x0: np.ndarray
    """(B, D) initial estimate shared by every solver."""
    traces: dict[str, Trace]
    ground_truth: np.ndarray | None = None
    """(B, D) or None."""
    parameter_names: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    """The problem's config (engine.problems.spec.config_to_dict); {} for version 1 files: the defaults."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Anything else worth keeping: mesh names, problem settings, command line."""
    attachments: dict[str, np.ndarray] = field(default_factory=dict)
    """Extra arrays saved alongside (e.g. the app's mesh)."""

    def save(self, path: str | os.PathLike) -> None:
        """Writes one compressed .npz (the suffix is added when missing), atomically (engine.outputs)."""
        arrays: dict[str, np.ndarray] = {"observation": self.observation, "x0": self.x0}
        if self.ground_truth is not None:
            arrays["ground_truth"] = self.ground_truth
        for index, trace in enumerate(self.traces.values()):
            arrays.update(trace._arrays(f"trace{index}."))
        meta = {"format": "feedbacklab-trace", "version": FORMAT_VERSION, "problem": self.problem,
                "config": self.config, "parameter_names": list(self.parameter_names), "solvers": list(self.traces),
                "settings": [trace.settings for trace in self.traces.values()],
                "failures": [{str(k): v for k, v in trace.failures.items()} for trace in self.traces.values()],
                "meta": self.meta}
        arrays.update({f"attachment.{name}": value for name, value in self.attachments.items()})
        arrays["meta.json"] = np.array(json.dumps(meta))
        path = os.fspath(path)
        with atomic_path(path if path.endswith(".npz") else f"{path}.npz") as temporary:
            np.savez_compressed(temporary, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Comparison":
        """Reads a file written by save(); TraceError with a one-line reason otherwise."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise TraceError(f"{path}: no such trace file; write one with `feedbacklab solve ... --trace {path}`")
        try:
            arrays = read_npz(path)
            meta = json.loads(str(arrays.pop("meta.json")))
        except NumpyFileError as error:
            raise TraceError(f"{path}: not a feedbacklab trace: {error}") from None
        except (KeyError, ValueError):
            meta = None
        if not isinstance(meta, dict):
            raise TraceError(f"{path}: not a feedbacklab trace (it has no readable meta.json)")
        if meta.get("format") != "feedbacklab-trace" or meta.get("version") not in READABLE_VERSIONS:
            raise TraceError(f"{path}: not a feedbacklab trace of version {' or '.join(map(str, READABLE_VERSIONS))}"
                             f" (it says {meta.get('format')!r} version {meta.get('version')!r})")
        try:
            traces = {}
            failures = meta.get("failures", [{}] * len(meta["solvers"]))
            for index, (solver, settings) in enumerate(zip(meta["solvers"], meta["settings"])):
                prefix = f"trace{index}."
                own = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
                traces[solver] = Trace._from_arrays(solver, own, settings, failures[index])
            comparison = cls(problem=meta["problem"], observation=arrays["observation"], x0=arrays["x0"],
                             traces=traces, ground_truth=arrays.get("ground_truth"),
                             parameter_names=tuple(meta["parameter_names"]), config=meta.get("config", {}),
                             meta=meta["meta"], attachments={key[len("attachment."):]: value
                                                             for key, value in arrays.items()
                                                             if key.startswith("attachment.")})
        except KeyError as error:
            raise TraceError(f"{path}: trace file is missing {error}; it may be truncated") from None
        except (TypeError, ValueError, AttributeError, IndexError):
            raise TraceError(f"{path}: damaged trace (its meta.json does not describe its solvers)") from None
        try:
            comparison.check()
        except ValueError as error:
            raise TraceError(f"{path}: damaged trace: {error}") from None
        return comparison

    def check(self) -> None:
        """ValueError (one line) unless the observation fits its problem and every array has the shape the others
        imply and holds finite numbers."""
        from .problems.registry import get_problem  # the problems import this module

        spec = get_problem(self.problem)
        _check_numbers("the observation", self.observation, minimum_rank=1)
        batch = len(self.observation)
        spec.observation.check(self.observation, batch)
        dim = spec.x_dimension(self.observation.shape[1:])
        _check_shape("x0", self.x0, (batch, dim))
        if self.ground_truth is not None:
            _check_shape("the ground truth", self.ground_truth, (batch, dim))
        for trace in self.traces.values():
            _check_trace(trace, self.observation.shape, dim)

    @property
    def num_iterations(self) -> int:
        """Length of the longest trace: the shared timeline."""
        return max(trace.num_iterations for trace in self.traces.values())

