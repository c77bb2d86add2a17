"""What the engine process holds and does: the loaded mesh and observation, and a run of several solvers
advanced side by side, one iteration each per round.

Written without processes or queues so that it can be tested directly; engine.worker.process feeds it.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ..compare import jsonable
from ..energy_slice import energy_slice
from ..images import load_silhouette
from ..meshes import Mesh
from ..procedural import resolve_mesh
from ..problems.pose6d import Pose6DConfig, Pose6DProblem, parse_pose
from ..record import record_comparison
from ..solvers.base import Iteration
from ..solvers.registry import make_solver, parse_solver_names
from . import protocol as p

Emit = Callable[[Any], None]


class CommandError(ValueError):
    """A command that cannot be carried out in the engine's present state; one line for the user."""


@dataclass
class _SolverRun:
    name: str
    iterations: Iterator[Iteration]
    finished: bool = False


class EngineState:
    """Handles commands and advances the current run; results go to `emit`."""

    def __init__(self, emit: Emit, device: torch.device | str = "cpu"):
        self.emit = emit
        self.device = torch.device(device)
        self.mesh: Mesh | None = None
        self.observation: torch.Tensor | None = None
        self.ground_truth: torch.Tensor | None = None
        self.runs: list[_SolverRun] = []
        self.paused = False

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
        except (ValueError, OSError, RuntimeError) as error:  # MeshError, ImageError, CheckpointError, ...
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
            self.emit(_iteration_done(run.name, record))
            if not bool(record.active.any()):
                run.finished = True
        if all(run.finished for run in self.runs):
            self.runs = []
            self.emit(p.RunFinished(cancelled=False))

    # --- problem ---

    def _problem(self, image_size: int) -> Pose6DProblem:
        if self.mesh is None:
            raise CommandError("no mesh loaded; open a mesh first")
        return Pose6DProblem.for_meshes(self.mesh, 1, replace(Pose6DConfig(), image_size=image_size), self.device)

    def _set_mesh(self, mesh: Mesh, note: str = "", path: str | None = None) -> None:
        self._stop_run()
        self.mesh = mesh
        self.emit(p.MeshLoaded(mesh.name, mesh.vertices.numpy(), mesh.faces.numpy(), note, path))

    def _on_LoadMesh(self, command: p.LoadMesh) -> None:
        mesh = resolve_mesh(command.spec)
        note = ""
        if mesh.simplified_from is not None:
            note = f"simplified from {mesh.simplified_from} to {mesh.num_faces} faces"
        self._set_mesh(mesh, note, command.spec if command.spec and os.path.isfile(command.spec) else None)

    def _on_SetMesh(self, command: p.SetMesh) -> None:
        vertices = torch.as_tensor(np.asarray(command.vertices, dtype=np.float32))
        faces = torch.as_tensor(np.asarray(command.faces, dtype=np.int64))
        if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3 or not len(faces):
            raise CommandError(f"mesh {command.name!r} must have (V, 3) vertices and (F, 3) faces")
        if int(faces.min()) < 0 or int(faces.max()) >= len(vertices):
            raise CommandError(f"mesh {command.name!r} has face indices outside its {len(vertices)} vertices")
        self._set_mesh(Mesh(vertices, faces, command.name, np.eye(4)))

    def _set_observation(self, image: np.ndarray, ground_truth: np.ndarray | None, source: str,
                         path: str | None = None) -> None:
        self._stop_run()
        self.observation = torch.as_tensor(np.asarray(image, dtype=np.float32))[None].to(self.device)
        self.ground_truth = None if ground_truth is None else torch.as_tensor(
            np.asarray(ground_truth, dtype=np.float32)).reshape(1, -1).to(self.device)
        self.emit(p.ObservationReady(np.asarray(image, dtype=np.float32), ground_truth, source, path))

    def _on_NewObservation(self, command: p.NewObservation) -> None:
        if not 16 <= command.image_size <= 1024:
            raise CommandError(f"image size must be between 16 and 1024 pixels, got {command.image_size}")
        problem = self._problem(command.image_size)
        if command.pose is None:
            pose = problem.sample_ground_truth(torch.Generator().manual_seed(command.seed))
            source = f"random pose (seed {command.seed})"
        else:
            pose = parse_pose(",".join(str(v) for v in command.pose)).to(self.device)
            source = "typed pose"
        silhouette = problem.render(pose)[0]
        if not silhouette.any():
            raise CommandError("that pose puts the object outside the image; choose a smaller offset")
        self._set_observation(silhouette.cpu().numpy(), pose[0].cpu().numpy(), source)

    def _on_LoadObservation(self, command: p.LoadObservation) -> None:
        self._set_observation(load_silhouette(command.path), None, command.path, command.path)

    def _on_SetObservation(self, command: p.SetObservation) -> None:
        image = np.asarray(command.image, dtype=np.float32)
        if image.ndim != 2 or image.shape[0] != image.shape[1] or image.shape[0] < 16:
            raise CommandError(f"observation {command.source!r} must be a square image of at least 16 px")
        self._set_observation(image, command.ground_truth, command.source)

    # --- runs ---

    def _on_Run(self, command: p.Run) -> None:
        self._stop_run()
        if self.observation is None:
            raise CommandError("no observation yet; make a new observation or open one")
        names = parse_solver_names(",".join(command.solvers))
        problem = self._problem(self.observation.shape[-1])
        x0 = problem.initial_estimate() if command.x0 is None else parse_pose(
            ",".join(str(v) for v in command.x0)).to(self.device)
        solvers = {name: make_solver(name, **command.options) for name in names}
        self.runs = [_SolverRun(name, solver.iterate(problem, self.observation, x0, self.ground_truth))
                     for name, solver in solvers.items()]
        self.paused = command.paused
        settings = {name: jsonable(asdict(solver.params)) for name, solver in solvers.items()}
        self.emit(p.RunStarted(tuple(names), x0[0].cpu().numpy(), tuple(problem.parameter_names), settings))

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
        if self.observation is None:
            raise CommandError("no observation yet; the energy needs one")
        problem = self._problem(self.observation.shape[-1])
        center = torch.tensor(command.center, dtype=torch.float32)
        coordinates, energy = energy_slice(problem, self.observation, center, command.axes, command.span,
                                           command.resolution)
        self.emit(p.EnergySliceReady(center.numpy(), tuple(command.axes), coordinates, energy))

    def _on_Export(self, command: p.Export) -> None:
        frames = record_comparison(command.comparison, command.path, fps=command.fps, max_frames=command.max_frames,
                                   progress=lambda done, total: self.emit(p.ExportProgress(done, total)))
        self.emit(p.ExportFinished(command.path, frames))


def _iteration_done(name: str, record: Iteration) -> p.IterationDone:
    rendering = (record.rendering[0].detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    metrics = {key: float(value[0]) for key, value in record.metrics.items()}
    return p.IterationDone(
        solver=name, index=record.index, x=record.x[0].cpu().numpy(), rendering=rendering,
        energy=float(record.energy[0]), update=record.update[0].cpu().numpy(), elapsed=record.elapsed,
        step_seconds=record.step_seconds, status=int(record.status[0]), metrics=metrics,
    )


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
