"""lbfgs-temporal: the paper's optimisation baseline with a temporal term over a window of frames (Table 2's
'L-BFGS, GMM + temporal').

Consecutive items of the batch are consecutive frames of one motion. Each window of `window` frames is one L-BFGS
problem: its x is the window's frames side by side and its energy is the frames' own (the problem's residuals)
plus weight * |J_{t+1} - J_t|^2 over the 52 joints of each pair of neighbouring frames (centimetres). Windows do
not overlap: they hold the largest number of frames, at most `window`, that divides the batch (a batch of one
frame is lbfgs-prior). The trace reports each frame's own energy plus half of each
temporal term it takes part in, so that a window's frames add up to its energy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ...solvers.base import IterativeSolver, SolverParams, StepResult
from ...solvers.generic import GradientOptimizer, GradientOptimizerParams
from .problem import CM, X_DIM, BodyHmdProblem

WINDOW = 8
"""Frames per window: a quarter of a second at 30 Hz."""
TEMPORAL_WEIGHT = 0.01
"""Weight of the squared joint motion between neighbouring frames (cm^2), against Eq. 4's terms: the best of 0.01,
0.1 and 1 with windows of 4 and 8 on the walk cycle's first 16 frames, half-space (V2V 157 mm against
lbfgs-prior's 274; 0.1: 187, 1: 373, the motion term then outweighing the headset)."""


class WindowProblem:
    """A body-hmd problem whose items are windows of `window` consecutive frames (x: (n, window * 159)), with the
    temporal term added to the frames' energies; what the L-BFGS of lbfgs-temporal works on."""

    def __init__(self, frames: BodyHmdProblem, window: int, weight: float):
        if frames.batch_size % window:
            raise ValueError(f"lbfgs-temporal: {frames.batch_size} frames do not split into windows of {window} "
                             "consecutive frames; give a batch of whole windows or set the solver's window")
        self.frames, self.window, self.weight = frames, window, weight
        self.tangent_dim = window * X_DIM
        self.device = frames.device

    @property
    def batch_size(self) -> int:
        return self.frames.batch_size // self.window

    def _frames(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(len(tensor) * self.window, -1)

    def subset(self, index: torch.Tensor) -> "WindowProblem":
        offsets = torch.arange(self.window, device=index.device)
        return WindowProblem(self.frames.subset((index[:, None] * self.window + offsets).flatten()), self.window,
                             self.weight)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return self.frames.retract(self._frames(x), self._frames(dx)).reshape(x.shape)

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.frames.forward(self._frames(x)).reshape(len(x), -1)

    def frame_energies(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(n, window) each frame's own energy plus half of the temporal terms it is in."""
        frames, observed = self._frames(x), self._frames(observation)
        own = self.frames.residuals(frames, observed).square().sum(1).reshape(len(x), self.window)
        joints = self.frames.posed(frames, "fingertips").joints.reshape(len(x), self.window, -1)
        motion = self.weight * (CM * (joints[:, 1:] - joints[:, :-1])).square().sum(2)  # (n, window - 1)
        shared = torch.nn.functional.pad(motion, (0, 1)) + torch.nn.functional.pad(motion, (1, 0))
        return own + shared / 2

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(n,) the windows' energies; the prediction is not read."""
        return self.frame_energies(x, observation).sum(1)


@dataclass(frozen=True)
class TemporalParams(SolverParams):
    window: int = WINDOW
    """Consecutive frames optimised together."""
    temporal_weight: float = TEMPORAL_WEIGHT
    history: int = 100
    """L-BFGS curvature pairs kept (per window)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.window < 1 or self.temporal_weight < 0:
            raise ValueError(f"lbfgs-temporal: window must be at least 1 and temporal_weight at least 0, got "
                             f"{self.window} and {self.temporal_weight}")


class TemporalLbfgs(IterativeSolver):
    """L-BFGS (GradientOptimizer's, line search included) on WindowProblem; its per-window state is kept by every
    frame of the window, so that the loop's per-item bookkeeping carries it. Once a frame has failed (a non-finite
    estimate), the frames left no longer make whole windows and all of them stop as failed."""

    params: TemporalParams
    name = "temporal-lbfgs"

    def __init__(self, params: TemporalParams | None = None):
        super().__init__(params or TemporalParams())
        self.inner = GradientOptimizer(GradientOptimizerParams(method="lbfgs", history=self.params.history,
                                                               max_iterations=self.params.max_iterations))

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        length = max(size for size in range(1, min(self.params.window, len(x0)) + 1) if len(x0) % size == 0)
        windows = self.inner.init_state(x0.reshape(len(x0) // length, -1))
        return {"window": torch.full((len(x0),), length, dtype=torch.int64, device=x0.device),
                **{key: value.repeat_interleave(length, 0) for key, value in windows.items()}}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        length = int(state["window"][0])
        if len(x) % length:
            energy = problem.energy(None, observation, x).detach()
            return StepResult(problem.forward(x), energy, x, failed=torch.ones(len(x), dtype=torch.bool,
                              device=x.device), failure="a frame of its window failed, so the windows broke up")
        windows = WindowProblem(problem, length, self.params.temporal_weight)
        rows = {key: value[::length] for key, value in state.items() if key != "window"}
        window_x, window_observation = x.reshape(len(x) // length, -1), observation.reshape(len(x) // length, -1)
        result = self.inner.step(windows, window_observation, window_x, rows, iteration)
        for key, value in rows.items():
            state[key] = value.repeat_interleave(length, 0)
        with torch.no_grad():
            energy = windows.frame_energies(window_x, window_observation).flatten()
        info = {key: value.repeat_interleave(length) for key, value in result.info.items()}
        converged = None if result.converged is None else result.converged.repeat_interleave(length)
        return StepResult(result.prediction.reshape(len(x), -1), energy, result.next_x.reshape(x.shape), info,
                          converged=converged)
