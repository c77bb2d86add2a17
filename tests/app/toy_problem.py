"""A tiny second problem for the app's tests: x = (a, b), the observation y = scale * (a, b, a * b) + offset,
one bar-chart panel, and a gradient-descent solver. Registered by tests that need it (see `toy_registered`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.problems.spec import (
    ArraySpec,
    InputSpec,
    Metric,
    Panel,
    ParameterGroup,
    ProblemSpec,
    SliceAxis,
    SolverEntry,
)
from engine.solvers.base import IterativeSolver, SolverParams, StepResult

OBSERVATION = ArraySpec((3,), "scale * (a, b, a * b) + offset")
PANEL_SIZE = (40, 60)
"""(height, width) of the panel: not square, and not pose6d's size."""


@dataclass(frozen=True)
class ToyConfig:
    scale: float = 1.0
    """How much the forward process scales (a, b, a * b)."""
    samples_spread: float = 1.0
    """Ground truths are uniform in [-spread, spread]."""


class ToyProblem:
    parameter_names = ("a", "b")
    observation_spec = OBSERVATION

    def __init__(self, config: ToyConfig, offset: float, batch: int, device: torch.device | str):
        self.config, self.offset, self._batch, self._device = config, offset, batch, torch.device(device)

    @property
    def batch_size(self) -> int:
        return self._batch

    @property
    def device(self) -> torch.device:
        return self._device

    def subset(self, index: torch.Tensor) -> "ToyProblem":
        return ToyProblem(self.config, self.offset, int(index.numel()), self._device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.config.scale * torch.stack([x[:, 0], x[:, 1], x[:, 0] * x[:, 1]], dim=1) + self.offset

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (prediction - observation).square().sum(1)

    def metrics(self, x, prediction, observation, ground_truth) -> dict[str, torch.Tensor]:
        metrics = {"residual": (prediction - observation).norm(dim=1)}
        if ground_truth is not None:
            metrics["distance"] = (x - ground_truth).norm(dim=1)
        return metrics

    def initial_estimate(self) -> torch.Tensor:
        return torch.full((self._batch, 2), 0.1, device=self._device)

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        values = (torch.rand(self._batch, 2, generator=generator) * 2 - 1) * self.config.samples_spread
        return values.to(self._device)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx


class GradientDescent(IterativeSolver):
    name = "gd"

    def __init__(self, learning_rate: float = 0.1, **options: Any):
        super().__init__(SolverParams(**{k: v for k, v in options.items() if k in ("max_iterations", "patience")}))
        self.learning_rate = learning_rate

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def step(self, problem, observation, x, state, iteration) -> StepResult:
        x = x.detach().requires_grad_(True)
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        (gradient,) = torch.autograd.grad(energy.sum(), x)
        return StepResult(prediction.detach(), energy.detach(), (x - self.learning_rate * gradient).detach(),
                          info={"step_size": torch.full_like(energy, self.learning_rate)})


def _draw(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None) -> np.ndarray:
    """Bars of the observation (grey) and the prediction (yellow)."""
    height, width = PANEL_SIZE
    image = np.zeros((height, width, 3), np.uint8)
    for index, (seen, predicted) in enumerate(zip(observation, prediction)):
        left = 4 + index * 19
        for offset, value, colour in ((0, seen, (150, 150, 158)), (8, predicted, (250, 196, 60))):
            top = int(np.clip(height / 2 - value * 8, 0, height - 1))
            image[min(top, height // 2):max(top, height // 2) + 1, left + offset:left + offset + 7] = colour
    return image


def _axis(index: int, name: str) -> SliceAxis:
    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        x[:, index] += offsets
        return x

    return SliceAxis(name, f"offset of {name}", "m", 0.5, move, lambda path, center: path[:, index] - center[index])


def _parse_x(text: str, config: Any = None) -> torch.Tensor:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"x {text!r} is not two comma-separated numbers 'a,b'") from None
    if len(values) != 2:
        raise ValueError(f"x {text!r} must be two numbers 'a,b', got {len(values)}")
    return torch.tensor([values])


def _load_observation(path: str) -> np.ndarray:
    try:
        return np.loadtxt(path, dtype=np.float32, ndmin=2)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a toy observation ({error})") from None


OFFSET = InputSpec("offset", "Offset", "a number added to every observation value", lambda text: float(text or 0.0),
                   (".txt",), lambda value: f"offset {value:g}", lambda value: {"value": np.array([value])},
                   lambda name, arrays: float(np.asarray(arrays["value"])[0]), lambda value: f"offset {value:g}")

SPEC = ProblemSpec(
    name="toy", title="toy: two numbers from three", summary="a test problem", config=ToyConfig, inputs=(OFFSET,),
    make=lambda config, inputs, device="cpu", batch_size=None: ToyProblem(
        config, inputs.get("offset", 0.0), batch_size or 1, device),
    parameters=(ParameterGroup("position", ("a", "b"), "m"),), tangent_dim=2, observation=OBSERVATION,
    load_observation=_load_observation, save_observation=lambda path, observation: np.savetxt(path, observation),
    observation_extensions=(".txt",), parse_x=_parse_x, format_x=lambda x: ",".join(f"{v:g}" for v in x),
    metrics=(Metric("distance", "Distance", "m"), Metric("residual", "Residual", needs_ground_truth=False)),
    panels=(Panel("bars", "bars", _draw),), legend=None, slice_axes=(_axis(0, "a"), _axis(1, "b")),
    solvers=(SolverEntry("gd", "optimizer", "plain gradient descent", GradientDescent, "dx_t = -lr * grad E"),),
    default_solvers=("gd",), x_hint="a,b", prediction_label="values",
)


def register(monkeypatch) -> None:
    """Adds the toy problem to the registry for one test."""
    from engine.problems import registry

    registered = registry.problems()
    monkeypatch.setattr(registry, "problems", lambda: {**registered, "toy": SPEC})
