"""The iteration interface: a solver is a sequence of iterations.

    for it in solver.iterate(problem, observation, x0, ground_truth):   # one record per iteration
        it.x, it.prediction, it.energy, it.update, it.elapsed, it.metrics, it.info  # batch-first

Record t holds the estimate x_t, what the solver's forward process made of it (the prediction, shaped like an
observation), its energy, and the update that led to it from x_{t-1} (zero for t = 0). What a problem is lives
in engine.problems.spec; the loop needs only its batch, subset, observation spec and metrics. The loop is written once here; a solver supplies only `init_state` and
`step`. Every item of the batch stops on its own (energy stalled for `patience` iterations since it last
changed, StepResult.energy_changed, or `max_iterations` reached); stopped items are frozen and no longer computed.
"""
from __future__ import annotations

import enum
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch

from .options import check_solver_params


class Status(enum.IntEnum):
    """Per-item state after an iteration."""

    RUNNING = 0
    CONVERGED = 1
    """The energy stopped improving for `patience` iterations."""
    MAX_ITERATIONS = 2
    FAILED = 3
    """The estimate became non-finite; the item keeps its last finite estimate."""


@dataclass(frozen=True)
class SolverParams:
    """Stopping rule shared by every solver."""

    max_iterations: int = 500
    """Stop an item after this many updates."""
    patience: int = 20
    """Stop an item when its energy has not improved for this many iterations (0: never)."""
    min_improvement: float = 1e-7
    """An energy counts as improved when it drops below the best so far by more than this."""

    def __post_init__(self) -> None:
        check_solver_params(self)


@dataclass
class StepResult:
    """What a solver's step computed at x_t for the active items."""

    prediction: torch.Tensor
    """(b, *observation shape) what the solver's forward process made of x_t."""
    energy: torch.Tensor
    """(b,) the energy of x_t."""
    next_x: torch.Tensor
    """(b, D) the proposed x_{t+1}."""
    info: dict[str, torch.Tensor] = field(default_factory=dict)
    """(b,) each: what the solver wants shown about this step (LM: damping, step accepted, gain ratio)."""
    failed: torch.Tensor | None = None
    """(b,) bool: items the solver could not step (e.g. a singular system); they stop with status FAILED."""
    failure: str = ""
    """Why those items failed, one line."""
    converged: torch.Tensor | None = None
    """(b,) bool: items the solver's own test finds converged (e.g. LM's step or gradient below tolerance)."""
    energy_changed: bool = False
    """The energy is not the one of the earlier iterations (a solver that changes it as it goes, e.g. SoftRas'
    sigma schedule), so it cannot be compared with them: the patience count starts again from this iteration."""


@dataclass
class Iteration:
    """One record of a solver's run, batch-first."""

    index: int
    x: torch.Tensor
    """(B, D) estimate x_t."""
    prediction: torch.Tensor
    """(B, *observation shape) prediction of x_t (items that stopped hold their last one)."""
    energy: torch.Tensor
    """(B,) energy of x_t."""
    update: torch.Tensor
    """(B, D) x_t - x_{t-1}; zero for t = 0 and for items that had stopped."""
    elapsed: float
    """Seconds the solver has computed so far (time spent by the consumer between records not counted)."""
    step_seconds: float
    """Seconds this iteration took, shared by the items that were active in it."""
    computed: torch.Tensor
    """(B,) bool: items whose prediction and energy were computed in this iteration."""
    status: torch.Tensor
    """(B,) int Status after this iteration; RUNNING items will be updated again."""
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)
    """(B,) each: problem metrics of x_t (with ground truth: errors and outlier flag)."""
    info: dict[str, torch.Tensor] = field(default_factory=dict)
    """(B,) float each: the solver's step information (StepResult.info; items not computed hold their last)."""
    failures: dict[int, str] = field(default_factory=dict)
    """Item -> why the solver failed on it, for every item that has failed so far."""

    @property
    def active(self) -> torch.Tensor:
        return self.status == Status.RUNNING


class IterativeSolver(ABC):
    """Base of every solver: the loop, per-item stopping, timing and metrics."""

    name: str = "solver"

    def __init__(self, params: SolverParams | None = None):
        self.params = params or SolverParams()

    @abstractmethod
    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-item solver state, every tensor batch-first (B, ...)."""

    @abstractmethod
    def step(
        self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor], iteration: int
    ) -> StepResult:
        """Prediction and energy at x (b, D) of the active items, and the proposed next estimate; `state` holds
        the active items' rows and may be updated in place, replaced key by key, or given new keys (allocated
        for the whole batch, zero for items that never set them)."""

    def iterate(
        self,
        problem: Any,
        observation: torch.Tensor,
        x0: torch.Tensor,
        ground_truth: torch.Tensor | None = None,
    ) -> Iterator[Iteration]:
        """Yields one record per iteration until every item has stopped."""
        _check_inputs(problem, observation, x0, ground_truth)
        batch = x0.shape[0]
        device = x0.device
        x = x0.detach().clone()
        state = self.init_state(x)
        status = torch.full((batch,), int(Status.RUNNING), dtype=torch.int64, device=device)
        stopping = _StoppingRule(self.params, batch, device)
        prediction = energy = None
        info: dict[str, torch.Tensor] = {}
        failures: dict[int, str] = {}
        update = torch.zeros_like(x)
        elapsed = 0.0
        active_problem, active_count = problem, batch
        for t in range(self.params.max_iterations + 1):
            started = time.perf_counter()
            index = torch.nonzero(status == Status.RUNNING).squeeze(1)
            if active_count != index.numel():  # items only ever stop, so the count identifies the set
                active_problem, active_count = problem.subset(index), index.numel()
            rows = {key: value[index] for key, value in state.items()}
            with torch.enable_grad():
                result = self.step(active_problem, observation[index], x[index], rows, t)
            for key, value in rows.items():
                if key not in state:  # state a step adds on the way (its shape known only then)
                    state[key] = torch.zeros((batch,) + value.shape[1:], dtype=value.dtype, device=device)
                state[key][index] = value.detach()
            if prediction is None:
                prediction = torch.zeros((batch,) + result.prediction.shape[1:], device=device,
                                         dtype=result.prediction.dtype)
                energy = torch.zeros(batch, device=device)
            prediction[index] = result.prediction.detach().to(prediction.dtype)
            energy[index] = result.energy.detach()
            for key, value in result.info.items():
                info.setdefault(key, torch.full((batch,), float("nan"), device=device, dtype=torch.float32))[index] = (
                    value.detach().float())

            next_x = result.next_x.detach()
            if result.energy_changed:
                stopping.restart(index)
            new_status = stopping.status_after(t, index, energy[index], next_x)
            if result.converged is not None:
                new_status[result.converged & (new_status == Status.RUNNING)] = Status.CONVERGED
            if result.failed is not None and bool(result.failed.any()):
                new_status[result.failed] = Status.FAILED
                failures.update({int(i): result.failure for i in index[result.failed].tolist()})
            failures.update({int(i): "the estimate became NaN or infinite" for i in
                             index[new_status == Status.FAILED].tolist() if int(i) not in failures})
            status[index] = new_status

            computed = torch.zeros(batch, dtype=torch.bool, device=device)
            computed[index] = True
            metrics = problem.metrics(x, prediction, observation, ground_truth)
            step_seconds = time.perf_counter() - started
            elapsed += step_seconds
            yield Iteration(t, x.clone(), prediction.clone(), energy.clone(), update.clone(), elapsed, step_seconds,
                            computed, status.clone(), {k: v.detach() for k, v in metrics.items()},
                            {k: v.clone() for k, v in info.items()}, dict(failures))
            started = time.perf_counter()
            moving = index[new_status == Status.RUNNING]
            update = torch.zeros_like(x)
            update[moving] = next_x[new_status == Status.RUNNING] - x[moving]
            x = x + update
            elapsed += time.perf_counter() - started
            if moving.numel() == 0:
                return

    def solve(
        self, problem: Any, observation: torch.Tensor, x0: torch.Tensor, ground_truth: torch.Tensor | None = None
    ) -> Iteration:
        """Runs to the end and returns the last record."""
        last = None
        for last in self.iterate(problem, observation, x0, ground_truth):
            pass
        assert last is not None
        return last


class _StoppingRule:
    """Per item: patience on the energy, the iteration limit, and non-finite proposals."""

    def __init__(self, params: SolverParams, batch: int, device: torch.device):
        self.params = params
        self.best_energy = torch.full((batch,), float("inf"), device=device)
        self.stalled = torch.zeros(batch, dtype=torch.int64, device=device)

    def restart(self, index: torch.Tensor) -> None:
        """Forgets the best energy of the items `index` (their energy changed): patience counts from now."""
        self.best_energy[index] = float("inf")
        self.stalled[index] = 0

    def status_after(self, t: int, index: torch.Tensor, energy: torch.Tensor, next_x: torch.Tensor) -> torch.Tensor:
        """Status of the items `index` after iteration t, given their energy and proposed next estimate."""
        improved = energy < self.best_energy[index] - self.params.min_improvement
        self.best_energy[index] = torch.where(improved, energy, self.best_energy[index])
        self.stalled[index] = torch.where(improved, 0, self.stalled[index] + 1)
        status = torch.full_like(index, int(Status.RUNNING))
        if self.params.patience > 0:
            status[self.stalled[index] >= self.params.patience] = Status.CONVERGED
        if t == self.params.max_iterations:
            status[:] = Status.MAX_ITERATIONS
        status[~torch.isfinite(next_x).all(dim=1) & (status == Status.RUNNING)] = Status.FAILED
        return status


def _check_inputs(problem: Any, observation: torch.Tensor, x0: torch.Tensor, ground_truth: torch.Tensor | None):
    batch = problem.batch_size
    if x0.ndim != 2 or x0.shape[0] != batch:
        raise ValueError(f"x0 must have shape ({batch}, D), got {tuple(x0.shape)}")
    problem.observation_spec.check(observation, batch)
    if ground_truth is not None and ground_truth.shape != x0.shape:
        raise ValueError(f"ground truth must have the shape of x0 {tuple(x0.shape)}, got {tuple(ground_truth.shape)}")
    if not torch.isfinite(x0).all():
        raise ValueError("x0 contains NaN or infinite values")
