"""Optimizers through a differentiable silhouette renderer (the paper's NMR and SoftRas baselines).

Energy: squared silhouette difference (mean per pixel) + a prior keeping the quaternion on the unit sphere,
minimised with Adam (the default) or L-BFGS. Both are written batch-first with per-item state, so that every
problem of a batch keeps its own moments / curvature history and can stop on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..render.softras import DEFAULT_SIGMA
from .base import IterativeSolver, SolverParams, StepResult

METHODS = ("adam", "lbfgs")


@dataclass(frozen=True)
class RenderOptimizerParams(SolverParams):
    """Settings of an optimizer over a differentiable rasterizer."""

    rasterizer: str = "nmr"
    """'nmr' (hard forward, approximate gradient) or 'softras' (probabilistic silhouettes)."""
    method: str = "adam"
    """'adam' or 'lbfgs'."""
    learning_rate: float = 0.01
    """Adam's step size (per parameter, in quaternion / metre units)."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam's moment decay rates."""
    sigma: float = DEFAULT_SIGMA
    """SoftRas sharpness (squared NDC distance scale)."""
    history: int = 10
    """L-BFGS: number of curvature pairs kept."""
    max_step: float = 0.05
    """L-BFGS: largest step norm; stands in for a line search, which NMR's approximate gradient would defeat."""

    def __post_init__(self) -> None:
        if self.rasterizer not in ("nmr", "softras"):
            raise ValueError(f"unknown rasterizer {self.rasterizer!r}; choose 'nmr' or 'softras'")
        if self.method not in METHODS:
            raise ValueError(f"unknown optimizer method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.learning_rate <= 0 or self.max_step <= 0 or self.sigma <= 0 or self.history < 1:
            raise ValueError("learning_rate, max_step and sigma must be positive and history >= 1")


class RenderOptimizer(IterativeSolver):
    """Adam or L-BFGS on the silhouette energy, rendered by the NMR- or SoftRas-style rasterizer."""

    params: RenderOptimizerParams

    def __init__(self, params: RenderOptimizerParams | None = None):
        super().__init__(params or RenderOptimizerParams())
        self.name = self.params.rasterizer if self.params.method == "adam" else f"{self.params.rasterizer}-lbfgs"

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        batch, dim = x0.shape
        if self.params.method == "adam":
            return {"first_moment": torch.zeros_like(x0), "second_moment": torch.zeros_like(x0),
                    "steps": torch.zeros(batch, 1, device=x0.device)}
        history = self.params.history
        return {"s": torch.zeros(batch, history, dim, device=x0.device),
                "y": torch.zeros(batch, history, dim, device=x0.device),
                "stored": torch.zeros(batch, dtype=torch.int64, device=x0.device),
                "started": torch.zeros(batch, dtype=torch.bool, device=x0.device),
                "previous_x": torch.zeros_like(x0), "previous_grad": torch.zeros_like(x0)}

    def step(self, problem, observation, x, state, iteration):  # type: ignore[override]
        x = x.clone().requires_grad_(True)
        options = {"sigma": self.params.sigma} if self.params.rasterizer == "softras" else {}
        rendering = problem.render_differentiable(x, self.params.rasterizer, **options)
        energy = problem.energy(rendering, observation, x)
        (grad,) = torch.autograd.grad(energy.sum(), x)
        grad = torch.nan_to_num(grad)
        update = self._adam(grad, state) if self.params.method == "adam" else self._lbfgs(x.detach(), grad, state)
        return StepResult(rendering=rendering.detach(), energy=energy.detach(), next_x=x.detach() + update)

    def _adam(self, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
        beta1, beta2 = self.params.betas
        state["steps"] = state["steps"] + 1
        state["first_moment"] = beta1 * state["first_moment"] + (1 - beta1) * grad
        state["second_moment"] = beta2 * state["second_moment"] + (1 - beta2) * grad.square()
        first = state["first_moment"] / (1 - beta1 ** state["steps"])
        second = state["second_moment"] / (1 - beta2 ** state["steps"])
        return -self.params.learning_rate * first / (second.sqrt() + 1e-8)

    def _lbfgs(self, x: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """Two-loop recursion per item over its own (s, y) history; steps clipped to max_step."""
        s_new = x - state["previous_x"]
        y_new = grad - state["previous_grad"]
        curvature = (s_new * y_new).sum(1)
        accept = state["started"] & (curvature > 1e-10)
        if accept.any():
            state["s"][accept] = torch.cat([state["s"][accept, 1:], s_new[accept, None]], dim=1)
            state["y"][accept] = torch.cat([state["y"][accept, 1:], y_new[accept, None]], dim=1)
            state["stored"][accept] = (state["stored"][accept] + 1).clamp(max=self.params.history)
        state["previous_x"], state["previous_grad"] = x.clone(), grad.clone()
        state["started"] = torch.ones_like(state["started"])

        s, y = state["s"], state["y"]
        valid = torch.arange(self.params.history, device=x.device)[None] >= self.params.history - state["stored"][:, None]
        rho = torch.where(valid, 1.0 / (s * y).sum(-1).clamp(min=1e-10), torch.zeros_like(valid, dtype=x.dtype))
        q = grad.clone()
        alpha = torch.zeros_like(rho)
        for i in reversed(range(self.params.history)):
            alpha[:, i] = rho[:, i] * (s[:, i] * q).sum(1)
            q = q - alpha[:, i : i + 1] * y[:, i]
        newest_s, newest_y = s[:, -1], y[:, -1]
        gamma = torch.where(
            state["stored"] > 0, (newest_s * newest_y).sum(1) / newest_y.square().sum(1).clamp(min=1e-10),
            self.params.max_step / grad.norm(dim=1).clamp(min=1e-12),
        )
        r = gamma[:, None] * q
        for i in range(self.params.history):
            beta = rho[:, i] * (y[:, i] * r).sum(1)
            r = r + s[:, i] * (alpha[:, i] - beta)[:, None]
        step_norm = r.norm(dim=1, keepdim=True)
        return -r * (self.params.max_step / step_norm.clamp(min=self.params.max_step))
