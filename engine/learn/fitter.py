"""A learned fitter (fitter_network.py) at work on a problem: theta's representation of x, the feedback each
update reads, the solver on the iteration interface, and the training task of the shared trainer.

What a problem offers (besides the contract): `data_residuals(x, observation) -> (B, R)` (else `residuals`), the
data term the fitter's gradient follows; optionally `surface(x) -> (B, N, 3)` points for the training loss (a
body's mesh vertices) and `surface_edges` (E, 2), whose edge vectors the edge loss compares.

The fitter is trained end to end through its unrolled iterations (one stage of the shared trainer, its loss summed
over theta_0 .. theta_T); the residuals and gradient it reads are inputs, computed at a detached theta_t (as
learned optimisers do), so training needs no second derivatives.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import torch
from ..problems.spec import ParameterGroup
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle, rotation_from_6d, rotation_to_6d
from ..solvers.base import IterativeSolver, StepResult
from .checkpoint import CheckpointError
from .fitter_network import LearnedFitter
from .solver import CheckpointSolver, LearnedSolverParams


class Representation:
    """x (B, D) <-> theta (B, P): every 'rotation-vector' group's rotations as 6D (Zhou et al.), other numbers as
    they are, each group in its place. All rotations are converted in one batch (a body has ~50 groups)."""

    def __init__(self, groups: tuple[ParameterGroup, ...]):
        x_rotations, x_plain, theta_rotations, theta_plain = [], [], [], []
        x_start = theta_start = 0
        for group in groups:
            if group.kind not in ("euclidean", "rotation-vector"):
                raise ValueError(f"a learned fitter cannot represent parameter group {group.name} of kind {group.kind}")
            if group.kind == "rotation-vector" and len(group.labels) % 3:
                raise ValueError(f"rotation-vector group {group.name} must hold whole rotation vectors")
            size = len(group.labels)
            rotation = group.kind == "rotation-vector"
            width = 2 * size if rotation else size
            (x_rotations if rotation else x_plain).extend(range(x_start, x_start + size))
            (theta_rotations if rotation else theta_plain).extend(range(theta_start, theta_start + width))
            x_start, theta_start = x_start + size, theta_start + width
        self.x_dim, self.theta_dim = x_start, theta_start
        as_index = torch.tensor
        self._x_rotations, self._x_plain = as_index(x_rotations, dtype=torch.long), as_index(x_plain, dtype=torch.long)
        self._theta_rotations = as_index(theta_rotations, dtype=torch.long)
        self._theta_plain = as_index(theta_plain, dtype=torch.long)
        # where each column of cat([rotations, plain]) belongs
        self._x_order = torch.argsort(torch.cat([self._x_rotations, self._x_plain]))
        self._theta_order = torch.argsort(torch.cat([self._theta_rotations, self._theta_plain]))

    def to_theta(self, x: torch.Tensor) -> torch.Tensor:
        device = x.device
        vectors = x[:, self._x_rotations.to(device)].reshape(len(x), -1, 3)
        parts = torch.cat([rotation_to_6d(axis_angle_to_matrix(vectors)).flatten(1),
                           x[:, self._x_plain.to(device)]], dim=1)
        return parts[:, self._theta_order.to(device)]

    def to_x(self, theta: torch.Tensor) -> torch.Tensor:
        device = theta.device
        sixes = theta[:, self._theta_rotations.to(device)].reshape(len(theta), -1, 6)
        parts = torch.cat([matrix_to_axis_angle(rotation_from_6d(sixes)).flatten(1),
                           theta[:, self._theta_plain.to(device)]], dim=1)
        return parts[:, self._x_order.to(device)]


def data_residuals(problem: Any, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
    given = getattr(problem, "data_residuals", None)
    return given(x, observation) if given is not None else problem.residuals(x, observation)


def feedback(problem: Any, representation: Representation, theta: torch.Tensor, observation: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """The data term's residuals (B, R) and gradient dE_data/dtheta (B, P) at theta, detached."""
    with torch.enable_grad():
        point = theta.detach().requires_grad_(True)
        residuals = data_residuals(problem, representation.to_x(point), observation)
        gradient, = torch.autograd.grad(residuals.square().sum(), point)
    return residuals.detach(), gradient.detach()


class FitterSolver(CheckpointSolver):
    """A learned fitter on the iteration interface: step 0 is the initialiser (the regression estimate), each
    later step one update; the GRU memory and theta itself (its 6D rotations as the network made them, not
re-orthonormalised from x) are per-item solver state. With `steps` 1 it is the regression
    baseline (the initialiser alone)."""

    def __init__(self, problem_name: str, network_class: type[LearnedFitter], groups: tuple[ParameterGroup, ...],
                 params: LearnedSolverParams, device: torch.device | str = "cpu"):
        self.problem = problem_name  # type: ignore[misc]
        self.kinds = {params.kind: (network_class, True)}  # type: ignore[misc]
        self.representation = Representation(groups)
        super().__init__(params, device, name=params.kind if params.steps != 1 else "regression")
        config = self.checkpoint.networks[0].config
        total = 1 + config.iterations
        if params.steps is not None and params.steps > total:
            raise ValueError(f"{self.checkpoint_path}: the fitter runs at most {total} steps (its initialiser and "
                             f"{config.iterations} updates), not {params.steps}")
        self.params = replace(self.params, max_iterations=params.steps or total)

    def load(self, path: str, kind: str, device: torch.device | str = "cpu"):
        checkpoint = super().load(path, kind, device)
        network = checkpoint.networks[0]
        if network.config.parameters != self.representation.theta_dim:
            raise CheckpointError(f"{path}: its fitter has {network.config.parameters} parameters, this problem's "
                                  f"{self.representation.theta_dim}; train one with `feedbacklab train {self.problem}`")
        return checkpoint

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        network = self.checkpoint.networks[0]
        return {"memory": network.initial_state(len(x0), x0.device),
                "theta": x0.new_zeros(len(x0), network.config.parameters)}

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        network = self.network(0, x.device)
        config = network.config
        if observation[0].numel() != config.observation:
            raise ValueError(f"{self.checkpoint_path}: the fitter reads observations of {config.observation} numbers, "
                             f"not {observation[0].numel()}")
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        if iteration >= self.params.max_iterations:
            return StepResult(prediction, energy, x)
        with torch.no_grad():
            features = network.features(observation)
            if iteration == 0:
                state["theta"] = network.initial(features)
                return StepResult(prediction, energy, self.representation.to_x(state["theta"]))
            theta = state["theta"]
            residuals, gradient = feedback(problem, self.representation, theta, observation)
            state["theta"], state["memory"], info = network.update(iteration - 1, features, theta, residuals,
                                                                   gradient, state["memory"])
        return StepResult(prediction, energy, self.representation.to_x(state["theta"]), info)


def fitter_factory(problem_name: str, network_class: type[LearnedFitter], groups: tuple[ParameterGroup, ...],
                   kind: str, steps: int | None = None) -> Callable[..., IterativeSolver]:
    """A SolverEntry factory of the fitter checkpoint `kind` (steps 1: its regression baseline)."""
    from ..solvers.options import options_for

    def make(**overrides: Any) -> IterativeSolver:
        options = options_for(LearnedSolverParams, overrides)
        options.pop("max_iterations", None)
        options.update(kind=kind, **({"steps": steps} if steps is not None else {}))
        return FitterSolver(problem_name, network_class, groups, LearnedSolverParams(**options))
    return make


def fitter_loss(network: Callable[..., list[torch.Tensor]], problem: Any, representation: Representation, observation: torch.Tensor,
                truth_x: torch.Tensor, weights: dict[str, float]) -> torch.Tensor:
    """The training loss summed over theta_0 .. theta_T: L1 on theta, and where the problem has a surface, the
    mean point distance (decimetres) and the edge-vector difference (centimetres) to the truth's."""
    thetas = network(observation, lambda theta: feedback(problem, representation, theta, observation))
    truth_theta = representation.to_theta(truth_x)
    surface = getattr(problem, "surface", None)
    truth_surface = surface(truth_x) if surface is not None else None
    edges = getattr(problem, "surface_edges", None)
    total = truth_x.new_zeros(())
    for theta in thetas:
        total = total + weights["parameters"] * (theta - truth_theta).abs().mean()
        if truth_surface is not None:
            points = surface(representation.to_x(theta))
            total = total + weights["surface"] * 10.0 * (points - truth_surface).norm(dim=-1).mean()
            if edges is not None and weights["edges"] > 0:
                a, b = edges[:, 0], edges[:, 1]
                difference = (points[:, a] - points[:, b]) - (truth_surface[:, a] - truth_surface[:, b])
                total = total + weights["edges"] * 100.0 * difference.norm(dim=-1).mean()
    return total / len(thetas)
