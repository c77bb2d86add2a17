"""What the engine process holds and does: the current problem (spec, config, inputs), its observation, and a
run of several solvers advanced side by side, one iteration each per round.

Everything problem-specific comes from the problem's spec (engine.problems.spec); a command that does not fit
emits Failed with one line and leaves the state as it was. Written without processes or queues so that it can
be tested directly; engine.worker.process feeds it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ..bounds import integer
from ..compare import solver_settings
from ..energy_slice import energy_slice
from ..problems import registry
from ..problems.spec import (
    ArraySpec, InputSpec, Problem, ProblemSpec, config_from_dict, config_to_dict, loaded_observation,
)
from ..record import record_comparison
from ..solvers.base import Iteration
from . import protocol as p

Emit = Callable[[Any], None]
DEFAULT_PROBLEM = "pose6d"
STEPS_OF_LESSON = integer(1, 2000)
"""Training steps a lesson may take (it blocks the engine while it trains: seconds, not minutes)."""


class CommandError(ValueError):
    """A command that cannot be carried out in the engine's present state; one line for the user."""


@dataclass
class _SolverRun:
    name: str
    iterations: Iterator[Iteration]
    finished: bool = False


@dataclass
class _Observation:
    observation: torch.Tensor
    """(1, *item shape) on the engine's device."""
    ground_truth: torch.Tensor | None
    """(1, D) or None."""


class EngineState:
    """Handles commands and advances the current run; results go to `emit`."""

    def __init__(self, emit: Emit, device: torch.device | str = "cpu", problem: str = DEFAULT_PROBLEM):
        self.emit = emit
        self.device = torch.device(device)
        self.spec: ProblemSpec = registry.get_problem(problem)
        self.config: Any = self.spec.config()
        self.inputs: dict[str, Any] = {}
        """Input key -> loaded value; a key not here takes the problem's built-in default."""
        self.current: _Observation | None = None
        self._problem: Problem | None = None
        self.runs: list[_SolverRun] = []
        self.paused = False

    def ready(self) -> p.Ready:
        """The result that announces this engine."""
        return p.Ready(str(self.device), tuple(registry.problems()))

    @property
    def observation(self) -> torch.Tensor | None:
        return None if self.current is None else self.current.observation

    @property
    def ground_truth(self) -> torch.Tensor | None:
        return None if self.current is None else self.current.ground_truth

    @property
    def running(self) -> bool:
        """A run has unfinished solvers and is not paused: the process should call advance()."""
        return bool(self.runs) and not self.paused

    def handle(self, command: Any) -> None:
        """Carries out one command; a bad one emits Failed and leaves the state as it was."""
        handler = getattr(self, f"_on_{type(command).__name__}", None)
        if handler is None:
            self.emit(p.Failed(type(command).__name__, f"the engine does not know the command {command!r}"))
            return
        try:
            handler(command)
        except (ValueError, OSError, RuntimeError, TypeError) as error:  # MeshError, ImageError, CheckpointError
            self.emit(p.Failed(type(command).__name__, _one_line(error)))

    def advance(self) -> None:
        """One iteration of every unfinished solver of the run."""
        for run in self.runs:
            if run.finished:
                continue
            try:
                record = next(run.iterations, None)
            except Exception as error:  # e.g. a checkpoint that does not fit the observation: stop this solver only
                run.finished = True
                self.emit(p.SolverFailed(run.name, f"{run.name} stopped: {_one_line(error)}"))
                continue
            if record is None:
                run.finished = True
                continue
            self.emit(_iteration_done(run.name, record, self.spec.observation))
            if not bool(record.active.any()):
                run.finished = True
        if all(run.finished for run in self.runs):
            self.runs = []
            self.emit(p.RunFinished(cancelled=False))

    # --- the problem and its inputs ---

    def problem(self) -> Problem:
        """The current problem, a batch of one (built once per change of problem, config or inputs)."""
        if self._problem is None:
            self._problem = self.spec.make(self.config, self.inputs, self.device, 1)
        return self._problem

    def _switch(self, spec: ProblemSpec, config: Any, inputs: dict[str, Any]) -> tuple[Problem, bool]:
        """Builds the problem for (spec, config, inputs) and makes it current, keeping the observation when it
        still fits; nothing changes when building raises. Returns the problem and whether the observation stays."""
        problem = spec.make(config, inputs, self.device, 1)
        self._stop_run()
        self.spec, self.config, self.inputs, self._problem = spec, config, inputs, problem
        kept = self.current is not None and self._fits(self.current.observation, self.current.ground_truth) is None
        if not kept:
            self.current = None
        return problem, kept

    def _on_SetProblem(self, command: p.SetProblem) -> None:
        spec = registry.get_problem(command.name)
        config = config_from_dict(spec.config, command.config)
        same = spec.name == self.spec.name
        _, kept = self._switch(spec, config, dict(self.inputs) if same else {})
        self.emit(p.ProblemChanged(spec.name, config_to_dict(config), tuple(self.inputs), kept))

    def _input(self, key: str) -> InputSpec:
        for entry in self.spec.inputs:
            if entry.key == key:
                return entry
        choices = ", ".join(entry.key for entry in self.spec.inputs) or "none"
        raise CommandError(f"problem {self.spec.name} has no input {key!r}; its inputs: {choices}")

    def _set_input(self, entry: InputSpec, value: Any, path: str | None) -> None:
        _, kept = self._switch(self.spec, self.config, {**self.inputs, entry.key: value})
        arrays = entry.to_arrays(value) if entry.to_arrays is not None else {}
        self.emit(p.InputLoaded(entry.key, entry.name_of(value), entry.describe(value), arrays, path, kept))

    def _on_LoadInput(self, command: p.LoadInput) -> None:
        entry = self._input(command.key)
        value = entry.load(command.text)
        path = command.text if command.text and os.path.isfile(command.text) else None
        self._set_input(entry, value, path)

    def _on_SetInput(self, command: p.SetInput) -> None:
        entry = self._input(command.key)
        if entry.from_arrays is None:
            raise CommandError(f"problem {self.spec.name} cannot take its {entry.label.lower()} as arrays; "
                               "load it from its file")
        self._set_input(entry, entry.from_arrays(command.name, dict(command.arrays)), None)

    # --- observations ---

    def _fits(self, observation: torch.Tensor, ground_truth: torch.Tensor | None) -> str | None:
        """Why a (1, *shape) observation and its ground truth do not fit the current problem, or None."""
        try:
            self.spec.observation.check(observation, 1)
        except ValueError as error:
            return str(error)
        problem = self.problem()
        expected = tuple(problem.forward(problem.initial_estimate()).shape[1:])
        if tuple(observation.shape[1:]) != expected:
            return (f"observation of shape {tuple(observation.shape[1:])} does not fit problem {self.spec.name} "
                    f"with its settings: predictions have shape {expected}")
        if ground_truth is not None:
            try:
                _check_x(ground_truth, self._dimension(observation), "ground truth")
            except ValueError as error:
                return str(error)
        return None

    def _dimension(self, observation: torch.Tensor) -> int:
        """D of an estimate for the (1, *shape) observation."""
        return self.spec.x_dimension(tuple(observation.shape[1:]))

    def _checked(self, observation: torch.Tensor, ground_truth: torch.Tensor | None) -> _Observation:
        """The observation (1, *shape) and ground truth on the device; CommandError when they do not fit."""
        observation = observation.detach().float().to(self.device)
        ground_truth = None if ground_truth is None else ground_truth.detach().float().reshape(1, -1).to(self.device)
        reason = self._fits(observation, ground_truth)
        if reason is not None:
            raise CommandError(reason)
        return _Observation(observation, ground_truth)

    def _set_observation(self, current: _Observation, source: str, path: str | None = None) -> None:
        self._stop_run()
        self.current = current
        truth = current.ground_truth
        self.emit(p.ObservationReady(current.observation[0].cpu().numpy(),
                                     None if truth is None else truth[0].cpu().numpy(), source, path))

    def _on_NewObservation(self, command: p.NewObservation) -> None:
        problem = self.problem()
        given = loaded_observation(problem)
        if given is not None:  # the inputs are the observation (a JPEG opened): nothing to sample
            self._set_observation(self._checked(given[:1], None), "the opened input")
            return
        if command.ground_truth is None:
            x = problem.sample_ground_truth(torch.Generator().manual_seed(command.seed)).to(self.device)
            source = f"random ground truth (seed {command.seed})"
        else:
            x = torch.tensor([command.ground_truth], dtype=torch.float32, device=self.device)
            _check_x(x, problem.initial_estimate().shape[1], "ground truth")
            source = "typed ground truth"
        with torch.no_grad():
            observation = problem.forward(x)
        if self.spec.check_observation is not None:
            self.spec.check_observation(observation.cpu().numpy())
        self._set_observation(self._checked(observation, x), source)

    def _on_LoadObservation(self, command: p.LoadObservation) -> None:
        observation = np.asarray(self.spec.load_observation(command.path), dtype=np.float32)
        if observation.shape[0] != 1:
            raise CommandError(f"{command.path} holds {observation.shape[0]} observations; the app shows one at a "
                               "time (solve batches with `feedbacklab solve`)")
        tensor = torch.as_tensor(observation)
        fitted = self.spec.fit_config(self.config, observation) if self.spec.fit_config is not None else self.config
        if fitted == self.config:
            self._set_observation(self._checked(tensor, None), command.path, command.path)
            return
        before = (self.config, self._problem, self.current)  # e.g. pose6d's image size from the file
        self._switch(self.spec, fitted, self.inputs)
        try:
            current = self._checked(tensor, None)
        except ValueError:
            self.config, self._problem, self.current = before
            raise
        self.emit(p.ProblemChanged(self.spec.name, config_to_dict(fitted), tuple(self.inputs), False))
        self._set_observation(current, command.path, command.path)

    def _on_SetObservation(self, command: p.SetObservation) -> None:
        observation = torch.as_tensor(np.asarray(command.observation, dtype=np.float32))[None]
        truth = None if command.ground_truth is None else torch.as_tensor(
            np.asarray(command.ground_truth, dtype=np.float32))
        self._set_observation(self._checked(observation, truth), command.source)

    # --- runs ---

    def _on_Run(self, command: p.Run) -> None:
        if self.current is None:
            raise CommandError("no observation yet; make a new observation or open one")
        names = self.spec.parse_solvers(",".join(command.solvers))
        problem = self.problem()
        if command.x0 is None:
            x0 = problem.initial_estimate().to(self.device)
        else:
            x0 = torch.tensor([command.x0], dtype=torch.float32, device=self.device)
            _check_x(x0, self._dimension(self.current.observation), "initial estimate")
            self.spec.check_start(problem, x0)
        solvers = {name: self.spec.make_solver(name, **command.options) for name in names}
        self._stop_run()
        self.runs = [_SolverRun(name, solver.iterate(problem, self.current.observation, x0, self.current.ground_truth))
                     for name, solver in solvers.items()]
        self.paused = command.paused
        settings = {name: solver_settings(solver) for name, solver in solvers.items()}
        self.emit(p.RunStarted(tuple(names), x0[0].cpu().numpy(), self.spec.parameter_names, settings))

    def _on_Pause(self, command: p.Pause) -> None:
        self.paused = True

    def _on_Resume(self, command: p.Resume) -> None:
        self.paused = False

    def _on_Advance(self, command: p.Advance) -> None:
        self.paused = True
        if self.runs:
            self.advance()

    def _on_Cancel(self, command: p.Cancel) -> None:
        if self.runs:
            self._stop_run()
            self.emit(p.RunFinished(cancelled=True))

    def _stop_run(self) -> None:
        for run in self.runs:
            close = getattr(run.iterations, "close", None)
            if close is not None:
                close()
        self.runs = []

    # --- teaching and recording ---

    def _on_EnergySlice(self, command: p.EnergySlice) -> None:
        if self.current is None:
            raise CommandError("no observation yet; the energy needs one")
        axes = (self.spec.slice_axis(command.axes[0]), self.spec.slice_axis(command.axes[1]))
        center = torch.tensor(command.center, dtype=torch.float32)
        _check_x(center[None], self._dimension(self.current.observation), "slice centre")
        with torch.no_grad():
            coordinates, energy = energy_slice(self.problem(), self.current.observation, center, axes,
                                               command.span, command.resolution)
        self.emit(p.EnergySliceReady(center.numpy(), tuple(command.axes), coordinates, energy))

    def _on_Learn(self, command: p.Learn) -> None:
        lesson = self.spec.lesson
        if lesson is None:
            raise CommandError(f"problem {self.spec.name} learns no energy, so it has no lesson")
        if self.current is None:
            raise CommandError("no observation yet; the lesson draws the energy of one")
        steps = STEPS_OF_LESSON.check("lesson steps", command.steps if command.steps is not None else lesson.steps)
        truth = self.current.ground_truth
        frames = lesson.run(self.config, self.current.observation[0].cpu().numpy(),
                            None if truth is None else truth[0].cpu().numpy(), steps)
        self.emit(p.LessonReady(frames, steps))

    def _on_RenderPanel(self, command: p.RenderPanel) -> None:
        """Answers every request, with the picture or the reason there is none (the app waits for the answer
        before it asks for that picture again)."""
        try:
            panel = next((entry for entry in self.spec.rendered_panels if entry.key == command.panel), None)
            if panel is None:
                raise CommandError(f"problem {self.spec.name} renders no panel {command.panel!r}")
            image = panel.render(self.problem(), np.asarray(command.x), command.ground_truth, command.viewpoint)
        except Exception as error:  # a GL failure included: reported with the answer, the engine goes on
            self.emit(p.PanelRendered(command, None, _one_line(error)))
            return
        self.emit(p.PanelRendered(command, image))

    def _on_Export(self, command: p.Export) -> None:
        """The app's comparison is of the problem it holds, which is this one (with its inputs) unless it came
        from elsewhere: then it is recorded without the rendered panels."""
        ours = command.comparison.problem == self.spec.name
        frames = record_comparison(command.comparison, command.path, fps=command.fps, max_frames=command.max_frames,
                                   progress=lambda done, total: self.emit(p.ExportProgress(done, total)),
                                   problem=self.problem() if ours else None)
        self.emit(p.ExportFinished(command.path, frames))


def _check_x(x: torch.Tensor, dimension: int, name: str) -> None:
    """ValueError (one line) unless x is (1, dimension) and finite."""
    if tuple(x.shape) != (1, dimension):
        raise CommandError(f"{name} must have {dimension} values, got {x.shape[-1] if x.ndim else 0}")
    if not bool(torch.isfinite(x).all()):
        raise CommandError(f"{name} contains NaN or infinite values")


def _iteration_done(name: str, record: Iteration, storage: ArraySpec) -> p.IterationDone:
    """Item 0 of a record; its prediction as traces store it (exact float32, or a binary silhouette's uint8)."""
    return p.IterationDone(
        solver=name, index=record.index, x=record.x[0].cpu().numpy(),
        prediction=storage.encode(record.prediction[0].detach().float().cpu().numpy()),
        energy=float(record.energy[0]),
        update=record.update[0].cpu().numpy(), elapsed=record.elapsed, step_seconds=record.step_seconds,
        status=int(record.status[0]), metrics={key: float(value[0]) for key, value in record.metrics.items()},
        info={key: float(value[0]) for key, value in record.info.items()}, failure=record.failures.get(0, ""),
    )


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
