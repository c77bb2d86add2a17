"""One solver's iterations as they arrive from the engine, readable at any timeline position."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.problems.spec import ArraySpec
from engine.solvers.base import Status
from engine.trace import Trace
from engine.worker.protocol import IterationDone


@dataclass
class LiveTrace:
    """Records 0..n-1 of one solver; a finished solver holds its last record for later timeline positions.
    Each record keeps its prediction as the engine sent it: in the problem's storage (ArraySpec), exact
    float32 or a binary silhouette's uint8."""

    solver: str
    settings: dict[str, Any] = field(default_factory=dict)
    records: list[IterationDone] = field(default_factory=list)
    finished: bool = False
    error: str = ""
    """Why the solver stopped early, when it failed in the engine."""
    _series: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict, repr=False)

    def append(self, record: IterationDone) -> None:
        if record.index != len(self.records):
            raise ValueError(f"{self.solver}: iteration {record.index} arrived after {len(self.records) - 1}")
        self.records.append(record)
        if record.status != Status.RUNNING:
            self.finished = True

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last_index(self) -> int:
        return len(self.records) - 1

    @property
    def failure(self) -> str:
        """Why the solver failed on the item ('' when it has not): the engine's reason or the app's error."""
        return (self.records[-1].failure if self.records else "") or self.error

    def at(self, t: int) -> IterationDone:
        """The record shown at timeline position t."""
        if not self.records:
            raise IndexError(f"{self.solver} has no iterations yet")
        return self.records[min(max(t, 0), self.last_index)]

    def series(self, name: str) -> np.ndarray:
        """(n,) 'energy', a metric or an 'info.KEY' value over the iterations so far (cached until the next
        record); NaN where a record lacks it."""
        cached = self._series.get(name)
        if cached is not None and cached[0] == len(self.records):
            return cached[1]
        if name == "energy":
            values = np.array([r.energy for r in self.records], dtype=np.float64)
        elif name.startswith("info."):
            values = np.array([r.info.get(name[5:], np.nan) for r in self.records], dtype=np.float64)
        else:
            values = np.array([r.metrics.get(name, np.nan) for r in self.records], dtype=np.float64)
        self._series[name] = (len(self.records), values)
        return values

    def to_trace(self, storage: ArraySpec | None) -> Trace:
        """The records as an engine Trace of batch size 1 (for recording, saving and summaries); predictions are
        encoded as `storage` says, or left out when it is None."""
        if not self.records:
            raise ValueError(f"{self.solver} has no iterations to save")
        info_keys = dict.fromkeys(key for r in self.records for key in r.info)
        predictions = None
        if storage is not None:
            predictions = np.stack([storage.encode(r.prediction) for r in self.records])[:, None]
        failure = self.records[-1].failure
        return Trace(
            solver=self.solver,
            x=np.stack([r.x for r in self.records])[:, None],
            energy=np.array([[r.energy] for r in self.records], dtype=np.float32),
            update=np.stack([r.update for r in self.records])[:, None],
            elapsed=np.array([r.elapsed for r in self.records]),
            step_seconds=np.array([r.step_seconds for r in self.records]),
            computed=np.ones((len(self.records), 1), dtype=bool),
            status=np.array([[r.status] for r in self.records], dtype=np.int64),
            metrics={name: self.series(name)[:, None].astype(np.float32) for name in self.records[0].metrics},
            predictions=predictions,
            settings=dict(self.settings),
            info={key: self.series(f"info.{key}")[:, None].astype(np.float32) for key in info_keys},
            failures={0: failure} if failure else {},
        )

    @classmethod
    def from_trace(cls, trace: Trace, item: int = 0) -> "LiveTrace":
        """One item of a saved Trace, up to its last computed iteration (predictions as stored)."""
        if trace.predictions is None:
            raise ValueError(f"trace {trace.solver!r} was saved without predictions; the app needs them")
        live = cls(trace.solver, dict(trace.settings))
        failure = trace.failures.get(item, "")
        for t in range(int(trace.last_index()[item]) + 1):
            status = int(trace.status[t, item])
            live.records.append(IterationDone(
                solver=trace.solver, index=t, x=trace.x[t, item], prediction=trace.predictions[t, item],
                energy=float(trace.energy[t, item]), update=trace.update[t, item], elapsed=float(trace.elapsed[t]),
                step_seconds=float(trace.step_seconds[t]), status=status,
                metrics={name: float(values[t, item]) for name, values in trace.metrics.items()},
                info={name: float(values[t, item]) for name, values in trace.info.items()},
                failure=failure if status == Status.FAILED else "",
            ))
        live.finished = bool(live.records) and live.records[-1].status != Status.RUNNING
        return live


def check_trace(trace: Trace, dimension: int, item_shape: tuple[int, ...]) -> None:
    """ValueError naming the solver and the array unless a saved trace of one item fits the problem: numbers of
    the shapes its iterations give ((T, 1, dimension) estimates, (T, 1, *item_shape) predictions, ...) and
    finite estimates. Run before from_trace, which would otherwise fail far from the file, or show pictures of
    another size beside the observation."""
    steps = np.shape(trace.x)[0] if np.ndim(trace.x) else 0
    if steps == 0:
        raise ValueError(f"trace {trace.solver!r} has no iterations")
    per_step = {"energy": trace.energy, "computed": trace.computed, "status": trace.status,
                **{f"metric {name}": values for name, values in trace.metrics.items()},
                **{f"info {name}": values for name, values in trace.info.items()}}
    expected = {name: (array, (steps, 1)) for name, array in per_step.items()}
    expected.update({"estimates": (trace.x, (steps, 1, dimension)), "updates": (trace.update, (steps, 1, dimension)),
                     "elapsed": (trace.elapsed, (steps,)), "step_seconds": (trace.step_seconds, (steps,)),
                     "predictions": (trace.predictions, (steps, 1, *item_shape))})
    for name, (array, shape) in expected.items():
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"trace {trace.solver!r}: its {name} hold {array.dtype} values, not numbers")
        if array.shape != shape:
            raise ValueError(f"trace {trace.solver!r}: its {name} have shape {array.shape}, expected {shape}")
    if not np.isfinite(trace.x).all():
        raise ValueError(f"trace {trace.solver!r}: its estimates contain NaN or infinite values")
