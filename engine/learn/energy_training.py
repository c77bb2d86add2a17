"""Wibergian learning of an energy's weights: SGD through the argmin layer (engine.learn.argmin).

Each step draws a training batch, finds the energy's minima with a workbench solver at the current weights, makes
them differentiable in the weights with the argmin layer (finishing Newton step, damped implicit derivative) and
takes one optimizer step on the loss of the minima against the truth. A task says what the energy, its weights,
its data and its loss are; this loop is the same for every problem.

Every step is recorded (loss, the weights' gradient norm, flagged items, the weights themselves), so that a run's
history can be reported (the paper's Fig. 2: the undamped derivative's arbitrarily large steps) and scrubbed in
the app. A step whose gradient is not finite is skipped and counted; weights that become non-finite stop the run
as diverged (the last finite weights are kept).
"""
from __future__ import annotations

import datetime
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

import numpy as np
import torch

from ..problems.spec import bounded, check_config
from .argmin import ArgminSettings, argmin
from .checkpoint import current_commit
from .energy_weights import save_energy_weights

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class EnergyTrainConfig:
    """Settings of learning an energy through its minima; problems extend it with their data's settings."""

    steps: int = bounded(300, 1, 1_000_000)
    """Optimizer steps on the energy's weights."""
    batch_size: int = bounded(16, 1, 100_000)
    """Problems per step."""
    learning_rate: float = bounded(0.01, 0.0, 1e6, low_open=True)
    """Step size of the weights' optimizer."""
    momentum: float = bounded(0.9, 0.0, 0.9999)
    """SGD momentum (the paper: 0.999 for robust-mean, whose gradients are volatile)."""
    optimizer: str = "sgd"
    """sgd (with momentum) or adam."""
    damping: float = bounded(0.1, 0.0, 1e6, aliases=("--lambda",))
    """lambda of the argmin layer's (H + lambda I): 0.1 is the paper's trust region, 0 the undamped implicit
    derivative of Samuel and Tappen."""
    seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the training data and of the weights' initial values where they are random."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"--optimizer {self.optimizer!r}: choose {' or '.join(OPTIMIZERS)}")

    def argmin_settings(self) -> ArgminSettings:
        return ArgminSettings(damping=self.damping)


class EnergyTask(Protocol):
    """What learning one problem's energy needs (see the module docstring)."""

    config: EnergyTrainConfig
    problem: str

    def initial_weights(self) -> dict[str, torch.Tensor]:
        """The untrained energy's weights, by name (the values the problem uses when nothing is learned)."""

    def training_batch(self, step: int, generator: torch.Generator) -> Any:
        """The data of one step."""

    def minimum(self, batch: Any, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, D) the energy's minima at these (detached) weights, found by a workbench solver."""

    def energy(self, y: torch.Tensor, batch: Any, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B,) E(y; weights) of the batch's independent items, differentiable in y and the weights."""

    def loss(self, y: torch.Tensor, batch: Any) -> torch.Tensor:
        """The scalar training loss of the minima y against the batch's truth."""

    def validate(self, weights: dict[str, torch.Tensor]) -> dict[str, float]:
        """Held-out figures of these weights (lower is better first)."""

    # Optional: learning_rate_scales() -> {name: factor}, each weight's step size relative to the config's
    # learning rate (weights of very different scales, such as a pose basis and log-weights); 1 for those left out.

    def meta(self) -> dict[str, Any]:
        """What the training data was, for the weights file."""


@dataclass
class TrainingRecord:
    """One optimizer step: the weights it started from, its loss and their gradient."""

    step: int
    loss: float
    gradient_norm: float
    """|dL/dw| over every weight (inf or NaN when the derivative blew up; the step was then skipped)."""
    flagged: int
    """Items whose Hessian at the minimum was indefinite (their gradient zeroed)."""
    weights: dict[str, np.ndarray]


@dataclass
class EnergyTrainingRun:
    """A finished run: its history, final weights and the metadata written with them."""

    history: list[TrainingRecord]
    weights: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def largest_gradient_norm(self) -> float:
        return max((r.gradient_norm for r in self.history), default=0.0)


def train_energy(task: EnergyTask, out_path: str | None = None, log: Callable[[str], None] = print,
                 log_every: int = 50) -> EnergyTrainingRun:
    """Runs the task's steps (see the module docstring); writes the weights to out_path when given."""
    config = task.config
    started, commit = time.perf_counter(), current_commit()
    weights = {name: value.detach().clone().requires_grad_(True) for name, value in task.initial_weights().items()}
    scales = task.learning_rate_scales() if hasattr(task, "learning_rate_scales") else {}
    groups = [{"params": [value], "lr": config.learning_rate * scales.get(name, 1.0)} for name, value in weights.items()]
    optimizer = (torch.optim.SGD(groups, lr=config.learning_rate, momentum=config.momentum)
                 if config.optimizer == "sgd" else torch.optim.Adam(groups, lr=config.learning_rate))
    generator = torch.Generator().manual_seed(config.seed)
    settings = config.argmin_settings()
    names = list(weights)
    history: list[TrainingRecord] = []
    skipped, diverged = 0, None
    for step in range(config.steps):
        batch = task.training_batch(step, generator)
        detached = {name: value.detach() for name, value in weights.items()}
        start = task.minimum(batch, detached)
        result = argmin(lambda y, ws: task.energy(y, batch, dict(zip(names, ws))), start,
                        [weights[name] for name in names], settings)
        loss = task.loss(result.y, batch)
        optimizer.zero_grad()
        loss.backward()
        norm = math.sqrt(sum(float(w.grad.square().sum()) for w in weights.values() if w.grad is not None))
        history.append(TrainingRecord(step, float(loss.detach()), norm, int(result.flagged.sum()),
                                      {name: value.detach().cpu().numpy().copy() for name, value in weights.items()}))
        if not math.isfinite(norm):
            skipped += 1
            continue
        previous = {name: value.detach().clone() for name, value in weights.items()}
        optimizer.step()
        if not all(bool(torch.isfinite(value).all()) for value in weights.values()):
            with torch.no_grad():
                for name, value in weights.items():
                    value.copy_(previous[name])
            diverged = step
            log(f"step {step}: the weights became NaN or infinite (gradient norm {norm:.3g}); stopped")
            break
        if log_every and (step % log_every == 0 or step == config.steps - 1):
            log(f"step {step}: loss {float(loss.detach()):.4g}, |dL/dw| {norm:.3g}, flagged {int(result.flagged.sum())}")
    final = {name: value.detach().clone() for name, value in weights.items()}
    validation = task.validate(final)
    seconds = time.perf_counter() - started
    meta = {"settings": asdict(config), "data": task.meta(), "validation": validation, "seconds": round(seconds, 1),
            "commit": commit, "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "skipped_steps": skipped, "diverged_at": diverged,
            "largest_gradient_norm": max((r.gradient_norm for r in history), default=0.0)}
    if out_path is not None:
        save_energy_weights(out_path, task.problem, final, meta)
        log(f"wrote {out_path}")
    return EnergyTrainingRun(history, final, meta)
