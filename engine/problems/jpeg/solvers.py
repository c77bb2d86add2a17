"""The jpeg problem's solvers on the iteration interface: the JPEG itself, TV inside the quantisation set,
Deep Image Prior, DnCNN and the feedback restorer (per-step or shared). No generic optimizer applies: f is a
JPEG encoder, without a gradient. Every record t holds x_t and its JPEG f(x_t), so the app steps through the
restorers' steps, TV's projected-gradient iterations and DIP's Adam steps alike."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import torch

from ...learn.checkpoint import Checkpoint
from ...learn.solver import ASSETS, CheckpointSolver, LearnedSolverParams
from ...solvers.base import IterativeSolver, SolverParams, StepResult
from ...solvers.closed_form import ClosedFormSolver
from ...solvers.options import options_for
from ..spec import SolverEntry
from .codec import table_scale
from .dip import DipFit, DipSettings
from .network import Restorer
from .quantisation import QuantisationSet
from .restore import restorer_step
from .tv import tv_step

CAPABILITIES: frozenset[str] = frozenset({"train"})
DIP_STEPS_PER_RECORD = 50
DEFAULT_QUALITY = 10
"""The quality of the checkpoint a learned solver reads its kind and steps from before it sees a problem."""


class ObservedJpeg(ClosedFormSolver):
    """x = y: what every restorer must improve on."""

    def __init__(self) -> None:
        super().__init__("jpeg")

    def estimate(self, problem: Any, observation: torch.Tensor) -> torch.Tensor:
        return observation.flatten(1)


@dataclass(frozen=True)
class TvParams(SolverParams):
    max_iterations: int = 100
    patience: int = 0
    step_size: float = 2e-3
    """The subgradient step at t = 0 for quality 10, decaying as 1 / sqrt(1 + t); other qualities scale it with
    the quantisation tables (quality 40: a quarter): tuned on four BSD68 images, +0.6 dB at quality 10 and
    +0.45 at 40 after 100 iterations, where a step fixed for one quality loses 0.4 dB at the other."""


class TvSolver(IterativeSolver):
    """Projected subgradient descent on the smoothed total variation inside y's quantisation set (grey only: the
    set of a colour JPEG lives in subsampled YCbCr)."""

    name = "tv"
    params: TvParams

    def __init__(self, params: TvParams | None = None):
        super().__init__(params or TvParams())

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        self._sets: dict[int, QuantisationSet] = {}
        return {"item": torch.arange(len(x0), device=x0.device)}

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        if observation.shape[1] != 1:
            raise ValueError("the tv solver restores grey JPEGs; set --colour false (or use dncnn / feedback)")
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        if iteration >= self.params.max_iterations:
            return StepResult(prediction, energy, x)
        images = problem.as_images(x)
        step = self.params.step_size * table_scale(problem.quality) / table_scale(DEFAULT_QUALITY)
        moved, variation = [], []
        for item, image, observed in zip(state["item"].tolist(), images, observation):
            if item not in self._sets:
                self._sets[item] = QuantisationSet(observed[0], problem.quality)
            constraint = self._sets[item]
            moved_image, image_variation = tv_step(image[0], constraint, step, iteration)
            moved.append(moved_image[None])
            variation.append(image_variation)
        return StepResult(prediction, energy, torch.stack(moved).flatten(1).to(x),
                          info={"total_variation": torch.stack(variation)})


@dataclass(frozen=True)
class DipParams(SolverParams):
    max_iterations: int = 48
    """Records; each is `adam_steps` Adam steps (48 x 50: the DIP paper's 2,400 for JPEG, its early stop)."""
    patience: int = 0
    adam_steps: int = DIP_STEPS_PER_RECORD
    """Adam steps between two records."""
    learning_rate: float = 0.01
    levels: int = 4
    width: int = 32
    seed: int = 0

    def settings(self) -> DipSettings:
        return DipSettings(iterations=self.max_iterations * self.adam_steps, learning_rate=self.learning_rate,
                           levels=self.levels, width=self.width, seed=self.seed)


class DipSolver(IterativeSolver):
    """Deep Image Prior: per item a skip network fitted by Adam to its JPEG; x_t is the network's image."""

    name = "dip"
    params: DipParams

    def __init__(self, params: DipParams | None = None):
        super().__init__(params or DipParams())
        self.settings = self.params.settings()
        self._fits: dict[int, DipFit] = {}

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        self._fits = {}
        return {"item": torch.arange(len(x0), device=x0.device)}

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        if iteration >= self.params.max_iterations:
            return StepResult(prediction, energy, x)
        moved = []
        for item, observed in zip(state["item"].tolist(), observation):
            if item not in self._fits:
                self._fits[item] = DipFit(observed[None], self.settings)
            fit = self._fits[item]
            for _ in range(self.params.adam_steps - 1):
                fit.step()
            moved.append(fit.step().flatten(1))
        return StepResult(prediction, energy, torch.cat(moved).to(x))


class JpegRestorerSolver(CheckpointSolver):
    """DnCNN or the feedback restorer of a checkpoint; without --checkpoint, the one shipped for the problem's
    quality (or, for a quality without its own, the blind one)."""

    problem = "jpeg"
    kinds = {"feedback": (Restorer, True), "feedback-shared": (Restorer, True), "dncnn": (Restorer, False)}

    def __init__(self, params: LearnedSolverParams | None = None, device: torch.device | str = "cpu"):
        params = params or LearnedSolverParams()
        self.chosen = params.checkpoint
        default = params.checkpoint or (shipped_restorer(params.kind, DEFAULT_QUALITY)
                                        if params.kind in self.kinds else None)
        super().__init__(replace(params, checkpoint=default), device)
        self._by_quality: dict[int, Checkpoint] = {DEFAULT_QUALITY: self.checkpoint}

    def for_quality(self, quality: int) -> Checkpoint:
        """The checkpoint for JPEGs of this quality (the one given, else the shipped one that fits)."""
        if self.chosen is not None:
            return self.checkpoint
        if quality not in self._by_quality:
            self._by_quality[quality] = self.load(shipped_restorer(self.params.kind, quality), self.params.kind)
        return self._by_quality[quality]

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        if iteration >= self.params.max_iterations:
            return StepResult(prediction, energy, x)
        checkpoint = self.for_quality(problem.quality)
        restored = restorer_step(checkpoint, iteration, problem.as_images(x), prediction, observation)
        return StepResult(prediction, energy, restored.flatten(1).to(x))


def shipped_restorer(kind: str, quality: int) -> str:
    """The shipped checkpoint of a kind for this quality: its own, else the blind one; ValueError (one line) when
    neither ships."""
    for tag in (f"q{quality}", "blind"):
        path = os.path.join(ASSETS, "checkpoints", f"jpeg-{kind}-{tag}.safetensors")
        if os.path.isfile(path):
            return path
    raise ValueError(f"no {kind} checkpoint ships for JPEG quality {quality}; train one with `feedbacklab train "
                     f"jpeg --solver {kind} --quality {quality} --out DIR` and pass --checkpoint DIR/...")


def _learned(kind: str):
    def make(**options: Any) -> JpegRestorerSolver:
        return JpegRestorerSolver(LearnedSolverParams(kind=kind, **options_for(LearnedSolverParams, options)))
    return make


def _with(params_class: type, solver_class: type):
    return lambda **options: solver_class(params_class(**options_for(params_class, options)))


SOLVERS = (
    SolverEntry("jpeg", "closed-form", "the observed JPEG itself (the baseline)", lambda **o: ObservedJpeg(),
                "x = y"),
    SolverEntry("tv", "optimizer", "total variation, projected subgradient descent inside y's quantisation set "
                "(grey)", _with(TvParams, TvSolver), "x <- P_Q(y)(x - s_t grad TV(x)),  s_t = s / sqrt(1 + t)"),
    SolverEntry("dip", "optimizer", "Deep Image Prior: a skip network fitted to y by Adam, stopped early "
                "(a record per 50 steps)", _with(DipParams, DipSolver),
                "w <- Adam(w, grad_w ||net_w(z) - y||^2),  x = net_w(z)"),
    SolverEntry("dncnn", "learned", "DnCNN (Zhang et al.), one residual CNN step from y", _learned("dncnn"),
                "x = y + g(y)"),
    SolverEntry("feedback", "learned", "deep feedback restorer, 3 steps, each re-encoding its estimate by the "
                "real JPEG", _learned("feedback"), "x_{t+1} = x_t + g_t(x_t, f(x_t), y - f(x_t))"),
    SolverEntry("feedback-shared", "learned", "deep feedback restorer, one network shared by every step",
                _learned("feedback-shared"), "x_{t+1} = x_t + g(x_t, f(x_t), y - f(x_t))"),
)
