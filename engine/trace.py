"""Traces: every iteration of every solver on the same problems, saved to and loaded from one .npz file.

A Trace collects one solver's Iteration records; a Comparison holds the problems' observations, ground truth
and initial estimate beside one Trace per solver. The file is a NumPy .npz (no pickles) whose 'meta.json'
entry holds the metadata as JSON; renderings are stored as uint8 (0-255) to keep long runs small.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import torch

from .solvers.base import Iteration

FORMAT_VERSION = 1


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
    renderings: np.ndarray | None = None
    """(T, B, H, W) uint8, or None when not kept."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The solver's parameters, for the record."""

    @classmethod
    def collect(
        cls, solver: str, iterations: Iterable[Iteration], keep_renderings: bool = True,
        settings: dict[str, Any] | None = None,
    ) -> "Trace":
        """Runs the iterations to the end and stacks their records."""
        records = list(iterations)
        if not records:
            raise ValueError(f"solver {solver!r} produced no iterations")
        stack = lambda get: np.stack([get(r).detach().cpu().numpy() for r in records])  # noqa: E731
        renderings = None
        if keep_renderings:
            renderings = np.stack(
                [(r.rendering.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy() for r in records]
            )
        return cls(
            solver=solver,
            x=stack(lambda r: r.x),
            energy=stack(lambda r: r.energy),
            update=stack(lambda r: r.update),
            elapsed=np.array([r.elapsed for r in records]),
            step_seconds=np.array([r.step_seconds for r in records]),
            computed=stack(lambda r: r.computed),
            status=stack(lambda r: r.status),
            metrics={name: stack(lambda r, n=name: r.metrics[n]) for name in records[0].metrics},
            renderings=renderings,
            settings=dict(settings or {}),
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

    def at(self, t: int) -> np.ndarray:
        """Iteration index to show for each item at timeline position t (stopped items hold their last)."""
        return np.minimum(t, self.last_index())

    def _arrays(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {"x": self.x, "energy": self.energy, "update": self.update, "elapsed": self.elapsed,
                  "step_seconds": self.step_seconds, "computed": self.computed, "status": self.status}
        arrays.update({f"metric.{name}": value for name, value in self.metrics.items()})
        if self.renderings is not None:
            arrays["renderings"] = self.renderings
        return {f"{prefix}{key}": value for key, value in arrays.items()}

    @classmethod
    def _from_arrays(cls, solver: str, arrays: dict[str, np.ndarray], settings: dict[str, Any]) -> "Trace":
        metrics = {key[len("metric."):]: value for key, value in arrays.items() if key.startswith("metric.")}
        return cls(solver=solver, x=arrays["x"], energy=arrays["energy"], update=arrays["update"],
                   elapsed=arrays["elapsed"], step_seconds=arrays["step_seconds"], computed=arrays["computed"],
                   status=arrays["status"], metrics=metrics, renderings=arrays.get("renderings"), settings=settings)


@dataclass
class Comparison:
    """Several solvers' traces on the same problems."""

    problem: str
    """Problem name, e.g. 'pose6d'."""
    observation: np.ndarray
    """(B, H, W) float32 observations."""
    x0: np.ndarray
    """(B, D) initial estimate shared by every solver."""
    traces: dict[str, Trace]
    ground_truth: np.ndarray | None = None
    """(B, D) or None."""
    parameter_names: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    """Anything else worth keeping: mesh names, problem settings, command line."""
    attachments: dict[str, np.ndarray] = field(default_factory=dict)
    """Extra arrays saved alongside (e.g. the app's mesh)."""

    def save(self, path: str | os.PathLike) -> None:
        """Writes one compressed .npz (the suffix is added when missing)."""
        arrays: dict[str, np.ndarray] = {"observation": self.observation, "x0": self.x0}
        if self.ground_truth is not None:
            arrays["ground_truth"] = self.ground_truth
        for index, trace in enumerate(self.traces.values()):
            arrays.update(trace._arrays(f"trace{index}."))
        meta = {"format": "feedbacklab-trace", "version": FORMAT_VERSION, "problem": self.problem,
                "parameter_names": list(self.parameter_names), "solvers": list(self.traces),
                "settings": [trace.settings for trace in self.traces.values()], "meta": self.meta}
        arrays.update({f"attachment.{name}": value for name, value in self.attachments.items()})
        arrays["meta.json"] = np.array(json.dumps(meta))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Comparison":
        """Reads a file written by save(); TraceError with a one-line reason otherwise."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise TraceError(f"{path}: no such trace file; write one with `feedbacklab solve ... --trace {path}`")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            meta = json.loads(str(arrays.pop("meta.json")))
        except Exception as error:  # zip, npz and JSON errors all mean the same to the user
            raise TraceError(f"{path}: not a feedbacklab trace ({type(error).__name__}: {error})") from None
        if meta.get("format") != "feedbacklab-trace" or meta.get("version") != FORMAT_VERSION:
            raise TraceError(f"{path}: not a feedbacklab trace of version {FORMAT_VERSION}")
        try:
            traces = {}
            for index, (solver, settings) in enumerate(zip(meta["solvers"], meta["settings"])):
                prefix = f"trace{index}."
                own = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
                traces[solver] = Trace._from_arrays(solver, own, settings)
            return cls(problem=meta["problem"], observation=arrays["observation"], x0=arrays["x0"], traces=traces,
                       ground_truth=arrays.get("ground_truth"), parameter_names=tuple(meta["parameter_names"]),
                       meta=meta["meta"], attachments={key[len("attachment."):]: value for key, value in arrays.items()
                                                       if key.startswith("attachment.")})
        except KeyError as error:
            raise TraceError(f"{path}: trace file is missing {error}; it may be truncated") from None

    @property
    def num_iterations(self) -> int:
        """Length of the longest trace: the shared timeline."""
        return max(trace.num_iterations for trace in self.traces.values())

