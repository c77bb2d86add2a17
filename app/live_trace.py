"""One solver's iterations as they arrive from the engine, readable at any timeline position."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.solvers.base import Status
from engine.trace import Trace
from engine.worker.protocol import IterationDone


@dataclass
class LiveTrace:
    """Records 0..n-1 of one solver; a finished solver holds its last record for later timeline positions."""

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

    def at(self, t: int) -> IterationDone:
        """The record shown at timeline position t."""
        if not self.records:
            raise IndexError(f"{self.solver} has no iterations yet")
        return self.records[min(max(t, 0), self.last_index)]

    def series(self, name: str) -> np.ndarray:
        """(n,) 'energy' or a metric over the iterations so far (cached until the next record)."""
        cached = self._series.get(name)
        if cached is not None and cached[0] == len(self.records):
            return cached[1]
        if name == "energy":
            values = np.array([r.energy for r in self.records], dtype=np.float64)
        else:
            values = np.array([r.metrics.get(name, np.nan) for r in self.records], dtype=np.float64)
        self._series[name] = (len(self.records), values)
        return values

    def to_trace(self) -> Trace:
        """The records as an engine Trace of batch size 1 (for recording and saving)."""
        if not self.records:
            raise ValueError(f"{self.solver} has no iterations to save")
        metric_names = self.records[0].metrics.keys()
        return Trace(
            solver=self.solver,
            x=np.stack([r.x for r in self.records])[:, None],
            energy=np.array([[r.energy] for r in self.records], dtype=np.float32),
            update=np.stack([r.update for r in self.records])[:, None],
            elapsed=np.array([r.elapsed for r in self.records]),
            step_seconds=np.array([r.step_seconds for r in self.records]),
            computed=np.ones((len(self.records), 1), dtype=bool),
            status=np.array([[r.status] for r in self.records], dtype=np.int64),
            metrics={name: np.array([[r.metrics[name]] for r in self.records], dtype=np.float32)
                     for name in metric_names},
            renderings=np.stack([r.rendering for r in self.records])[:, None],
            settings=dict(self.settings),
        )

    @classmethod
    def from_trace(cls, trace: Trace, item: int = 0) -> "LiveTrace":
        """One item of a saved Trace, up to its last computed iteration."""
        if trace.renderings is None:
            raise ValueError(f"trace {trace.solver!r} was saved without renderings; the app needs them")
        live = cls(trace.solver, dict(trace.settings))
        for t in range(int(trace.last_index()[item]) + 1):
            live.records.append(IterationDone(
                solver=trace.solver, index=t, x=trace.x[t, item], rendering=trace.renderings[t, item],
                energy=float(trace.energy[t, item]), update=trace.update[t, item], elapsed=float(trace.elapsed[t]),
                step_seconds=float(trace.step_seconds[t]), status=int(trace.status[t, item]),
                metrics={name: float(values[t, item]) for name, values in trace.metrics.items()},
            ))
        live.finished = bool(live.records) and live.records[-1].status != Status.RUNNING
        return live
