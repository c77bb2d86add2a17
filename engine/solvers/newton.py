"""Trust-region Newton on a problem's twice-differentiable energy, and the per-item Hessians it (and the argmin
layer of engine.learn.argmin) is built on.

Each iteration solves (H + mu I) dx = -g per item, H and g the exact Hessian and gradient of
dx -> energy(forward_differentiable(retract(x, dx))) at dx = 0, and adapts mu by the gain ratio of the actual to
the model's predicted decrease (mu /= 9 after a step taken, mu *= 11 after one refused): Sorensen's trust-region
modification of Newton's method, which the Wibergian paper's damped derivative is the fixed-point view of. An
item whose H + mu I cannot be factored keeps x and raises its mu, so indefinite regions are crossed as by
gradient descent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .base import IterativeSolver, SolverParams, StepResult


def item_hessians(gradient: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B, D, D) the Hessians of B independent energies, from their gradients (B, D) built with create_graph.

    Item b's energy depends on y[b] alone, so the derivative of the column sum of gradient[:, k] with respect to
    y is every item's k-th Hessian row at once: D backward passes for the whole batch, whatever its size."""
    rows = [torch.autograd.grad(gradient[:, k].sum(), y, retain_graph=True, allow_unused=True)[0]
            for k in range(gradient.shape[1])]
    rows = [torch.zeros_like(y) if row is None else row for row in rows]
    return torch.stack(rows, dim=1)


def energy_gradient(energy: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, create_graph: bool
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(leaf copy of y that requires grad, energy (B,), gradient (B, D)) of an energy of independent items."""
    y = y.detach().requires_grad_(True)
    value = energy(y)
    (gradient,) = torch.autograd.grad(value.sum(), y, create_graph=create_graph)
    return y, value, gradient


@dataclass(frozen=True)
class NewtonParams(SolverParams):
    """Settings of trust-region Newton; the stopping rule is the base's with 100 iterations."""

    max_iterations: int = 100
    """Stop an item after this many updates."""
    forward_options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of problem.forward_differentiable."""
    damping: float = 1e-3
    """Initial mu of (H + mu I) dx = -g."""
    min_damping: float = 1e-9
    """Lower bound of mu."""
    max_damping: float = 1e9
    """Upper bound of mu."""
    accept_threshold: float = 0.1
    """A step is taken when its gain ratio exceeds this."""
    gradient_tolerance: float = 1e-7
    """Converged when |g| is below this."""
    step_tolerance: float = 1e-7
    """Converged when the Newton step is shorter than this times (|x| + this): x is the fixed point to float
    precision."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.min_damping <= self.damping <= self.max_damping:
            raise ValueError("damping must be positive and within [min_damping, max_damping]")
        if not 0 <= self.accept_threshold < 1:
            raise ValueError("accept_threshold must be in [0, 1)")
        if min(self.gradient_tolerance, self.step_tolerance) < 0:
            raise ValueError("tolerances must be >= 0")


class NewtonSolver(IterativeSolver):
    """Trust-region Newton (see the module docstring). Step info: 'damping' (mu of this step), 'accepted' (1/0),
    'gain_ratio' and 'gradient_norm'."""

    name = "newton"
    params: NewtonParams

    def __init__(self, params: NewtonParams | None = None):
        super().__init__(params or NewtonParams())

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"damping": torch.full((x0.shape[0],), self.params.damping, device=x0.device, dtype=x0.dtype)}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        p = self.params
        x = x.detach()
        tangent = int(getattr(problem, "tangent_dim", x.shape[1]))

        def energy_at(dx: torch.Tensor) -> torch.Tensor:
            moved = problem.retract(x, dx)
            return problem.energy(problem.forward_differentiable(moved, **p.forward_options), observation, moved)

        dx, energy, gradient = energy_gradient(energy_at, x.new_zeros(len(x), tangent), create_graph=True)
        hessian = item_hessians(gradient, dx).detach()
        gradient, energy = gradient.detach(), energy.detach()
        with torch.no_grad():
            prediction = problem.forward_differentiable(x, **p.forward_options)
        damping = state["damping"]
        eye = torch.eye(tangent, dtype=x.dtype, device=x.device)
        factor, info = torch.linalg.cholesky_ex(hessian + damping[:, None, None] * eye)
        factored = info == 0
        step = torch.cholesky_solve(-gradient[:, :, None], factor).squeeze(2)
        step = torch.where(factored[:, None], torch.nan_to_num(step), torch.zeros_like(step))
        with torch.no_grad():
            candidate = problem.retract(x, step)
            actual = energy - problem.energy(problem.forward_differentiable(candidate, **p.forward_options),
                                             observation, candidate)
        predicted = -(gradient * step).sum(1) - 0.5 * (step * (hessian @ step[:, :, None]).squeeze(2)).sum(1)
        gain_ratio = torch.where(predicted > 0, actual / predicted.clamp(min=torch.finfo(x.dtype).tiny),
                                 torch.full_like(actual, float("nan")))
        accepted = factored & (gain_ratio > p.accept_threshold) & torch.isfinite(actual)
        state["damping"] = torch.where(accepted, damping / 9.0, damping * 11.0).clamp(p.min_damping, p.max_damping)
        gradient_norm = gradient.norm(dim=1)
        rounding = 8 * torch.finfo(x.dtype).eps * energy.abs()  # the model predicts no decrease float can see
        short = step.norm(dim=1) < p.step_tolerance * (x.norm(dim=1) + p.step_tolerance)
        converged = (gradient_norm < p.gradient_tolerance) | (factored & ((predicted.abs() <= rounding) | short))
        next_x = torch.where(accepted[:, None], candidate, x)
        info = {"damping": damping, "accepted": accepted.to(x.dtype), "gain_ratio": gain_ratio,
                "gradient_norm": gradient_norm}
        return StepResult(prediction.detach(), energy, next_x.detach(), info, converged=converged)
