"""The argmin layer of Wibergian learning (Toso, Campbell and Russell, "Fixing implicit derivatives"): the location
y*(w) of a minimum of an energy E(y; w) as a differentiable function of the energy's weights w.

Any solver of the workbench finds the minimum (forward); the layer finishes it with trust-region Newton steps on
the exact Hessian, so that the fixed point the derivative assumes holds, and its backward is the damped implicit
derivative (the paper's Eq. 10)

    dy*/dw = -(H + lambda I)^-1 d(grad_y E)/dw,     so  dL/dw = -(d grad_y E / dw)^T v,  (H + lambda I) v = dL/dy*

lambda = 0.1 is the paper's; lambda = 0 is the undamped derivative of Samuel and Tappen, which explodes where the
minimum is flat (H near 0). v is solved per batch item: from the full Hessian for small problems (D backward
passes for the whole batch, engine.solvers.newton.item_hessians), or by conjugate gradients on Hessian-vector
products, never forming H. The product with d(grad E)/dw is one vector-Jacobian product.

The energy is a function (y (B, D), weights) -> (B,) of independent items: item b depends on y[b] alone (the
weights may be shared by all items, or per item). y is Euclidean.

An item whose Hessian at the found point is not positive semi-definite (a saddle or a maximum: the fixed-point
argument does not hold there), or singular when lambda is 0, is flagged: its gradient is zeroed and the rest of
the batch trains on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from ..solvers.newton import energy_gradient, item_hessians

EnergyFunction = Callable[[torch.Tensor, Sequence[torch.Tensor]], torch.Tensor]
"""(y (B, D), weights) -> (B,) energies of independent items."""
HESSIANS = ("auto", "full", "hvp")
INDEFINITE = 1e-6
"""An item is indefinite when its smallest Hessian eigenvalue is below -INDEFINITE times its largest magnitude."""


@dataclass(frozen=True)
class ArgminSettings:
    """How the layer finishes the minimum and differentiates it."""

    damping: float = 0.1
    """lambda of (H + lambda I): 0.1 is the paper's trust-region value, 0 the undamped implicit derivative."""
    hessian: str = "auto"
    """'full': per-item Hessians (D backward passes); 'hvp': conjugate gradients on Hessian-vector products;
    'auto': full up to full_limit coordinates of y."""
    full_limit: int = 64
    """'auto' forms full Hessians when y has at most this many coordinates."""
    newton_steps: int = 1
    """Trust-region Newton steps that finish the solver's minimum before differentiating it."""
    cg_iterations: int = 200
    """Conjugate-gradient iterations at most ('hvp')."""
    cg_tolerance: float = 1e-10
    """CG stops when the residual's norm is below this times the right-hand side's."""

    def __post_init__(self) -> None:
        if not self.damping >= 0 or self.damping == float("inf"):
            raise ValueError(f"argmin damping lambda must be a number >= 0 (0.1 is the paper's, 0 the undamped "
                             f"derivative), got {self.damping}")
        if self.hessian not in HESSIANS:
            raise ValueError(f"argmin hessian {self.hessian!r}: choose one of {', '.join(HESSIANS)}")
        if self.full_limit < 1 or self.newton_steps < 0 or self.cg_iterations < 1 or not self.cg_tolerance > 0:
            raise ValueError("argmin full_limit and cg_iterations must be >= 1, newton_steps >= 0, cg_tolerance > 0")

    def full(self, dimension: int) -> bool:
        return self.hessian == "full" or (self.hessian == "auto" and dimension <= self.full_limit)


@dataclass
class ArgminResult:
    """The minimum and what the layer found about it, per item."""

    y: torch.Tensor
    """(B, D) the minimum; backpropagates to the weights by the damped implicit derivative."""
    flagged: torch.Tensor
    """(B,) bool: the Hessian at y is indefinite (or singular with lambda 0): the item's gradient is zero. With
    'hvp' Hessians, backward also sets it for items whose CG met negative curvature."""
    gradient_norm: torch.Tensor
    """(B,) |grad_y E| at y, after the finishing steps (how far from a fixed point the derivative is taken)."""


def argmin(energy: EnergyFunction, y: torch.Tensor, weights: Sequence[torch.Tensor],
           settings: ArgminSettings = ArgminSettings()) -> ArgminResult:
    """The minimum near y (B, D) (a solver's result) as a function of `weights` (see the module docstring)."""
    if y.ndim != 2:
        raise ValueError(f"argmin: y must have shape (B, D), got {tuple(y.shape)}")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("argmin: the solver's minimum contains NaN or infinite values")
    weights = tuple(weights)
    frozen = [w.detach() for w in weights]

    def fixed(v: torch.Tensor) -> torch.Tensor:
        return energy(v, frozen)

    y = y.detach()
    for _ in range(settings.newton_steps):
        y = finishing_step(fixed, y, settings)
    with torch.enable_grad():
        leaf, _, gradient = energy_gradient(fixed, y, create_graph=settings.full(y.shape[1]))
        hessian = item_hessians(gradient, leaf).detach() if settings.full(y.shape[1]) else None
    flagged = (_indefinite(hessian, settings.damping) if hessian is not None
               else torch.zeros(len(y), dtype=torch.bool, device=y.device))
    out = _Argmin.apply(energy, settings, hessian, flagged, y, *weights)
    return ArgminResult(out, flagged, gradient.detach().norm(dim=1))


def finishing_step(energy: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor,
                   settings: ArgminSettings) -> torch.Tensor:
    """y - (H + lambda I)^-1 g per item, for items where H + lambda I is positive definite and the step does not
    raise the energy beyond rounding (others keep y): one iteration of the trust-region method whose fixed point is the minimum."""
    with torch.enable_grad():
        leaf, value, gradient = energy_gradient(energy, y, create_graph=True)
        if settings.full(y.shape[1]):
            system = item_hessians(gradient, leaf).detach()
            step, ok = _solve_full(system, -gradient.detach(), settings.damping)
        else:
            step, negative = _conjugate_gradients(gradient, leaf, -gradient.detach(), settings)
            ok = ~negative
    with torch.no_grad():
        candidate = y + step
        value = value.detach()
        rounding = 8 * torch.finfo(value.dtype).eps * value.abs()  # near the minimum E is flat to rounding
        ok &= torch.isfinite(candidate).all(1) & (energy(candidate) <= value + rounding)
    return torch.where(ok[:, None], candidate, y).detach()


class _Argmin(torch.autograd.Function):
    """Identity on y forward; backward is the damped implicit derivative to the weights."""

    @staticmethod
    def forward(ctx: Any, energy: EnergyFunction, settings: ArgminSettings, hessian: torch.Tensor | None,
                flagged: torch.Tensor, y: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
        ctx.energy, ctx.settings, ctx.hessian, ctx.flagged = energy, settings, hessian, flagged
        ctx.save_for_backward(y, *weights)
        return y.clone()

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        y, *weights = ctx.saved_tensors
        settings: ArgminSettings = ctx.settings
        needs = [w.requires_grad for w in weights]
        with torch.enable_grad():
            leaves = [w.detach().requires_grad_(need) for w, need in zip(weights, needs)]
            point, _, gradient = energy_gradient(lambda v: ctx.energy(v, leaves), y, create_graph=True)
            if ctx.hessian is not None:
                v, _ = _solve_full(ctx.hessian, grad_y, settings.damping)
            else:
                v, negative = _conjugate_gradients(gradient, point, grad_y, settings)
                ctx.flagged |= negative
            v = torch.where(ctx.flagged[:, None], torch.zeros_like(v), v)
            wanted = [leaf for leaf, need in zip(leaves, needs) if need]
            found = iter(torch.autograd.grad(gradient, wanted, grad_outputs=-v, allow_unused=True) if wanted else ())
        grads = [(next(found) if need else None) for need in needs]
        grads = [torch.zeros_like(w) if need and g is None else g for w, g, need in zip(weights, grads, needs)]
        return (None, None, None, None, None, *grads)


def _solve_full(hessian: torch.Tensor, rhs: torch.Tensor, damping: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(H + lambda I)^-1 rhs per item, and which items could be factored (others get zero)."""
    eye = torch.eye(hessian.shape[1], dtype=hessian.dtype, device=hessian.device)
    factor, info = torch.linalg.cholesky_ex(hessian + damping * eye)
    ok = info == 0
    solution = torch.cholesky_solve(rhs[:, :, None], factor).squeeze(2)
    return torch.where(ok[:, None], torch.nan_to_num(solution), torch.zeros_like(solution)), ok


def _indefinite(hessian: torch.Tensor, damping: float) -> torch.Tensor:
    """(B,) items whose Hessian has a clearly negative eigenvalue, or with lambda 0 none that is positive."""
    eigenvalues = torch.linalg.eigvalsh(hessian)
    scale = eigenvalues.abs().amax(1).clamp(min=1.0)
    negative = eigenvalues[:, 0] < -INDEFINITE * scale
    if damping == 0:
        negative |= eigenvalues[:, 0] <= 0
    return negative


def _conjugate_gradients(gradient: torch.Tensor, y: torch.Tensor, rhs: torch.Tensor, settings: ArgminSettings
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """(H + lambda I)^-1 rhs per item by conjugate gradients on Hessian-vector products of `gradient` (built with
    create_graph at the leaf y); also the items where CG met non-positive curvature (their solution is zero)."""
    damping = settings.damping

    def product(p: torch.Tensor) -> torch.Tensor:
        (hvp,) = torch.autograd.grad(gradient, y, grad_outputs=p, retain_graph=True)
        return hvp.detach() + damping * p

    x = torch.zeros_like(rhs)
    r = rhs.clone()
    p = r.clone()
    rr = r.square().sum(1)
    stop = settings.cg_tolerance ** 2 * rr.clamp(min=torch.finfo(rhs.dtype).tiny)
    negative = torch.zeros(len(rhs), dtype=torch.bool, device=rhs.device)
    for _ in range(settings.cg_iterations):
        running = (rr > stop) & ~negative
        if not bool(running.any()):
            break
        ap = product(p)
        curvature = (p * ap).sum(1)
        negative |= running & (curvature <= 0)
        running &= ~negative
        alpha = torch.where(running, rr / curvature.clamp(min=torch.finfo(rhs.dtype).tiny), torch.zeros_like(rr))
        x = x + alpha[:, None] * p
        r = r - alpha[:, None] * ap
        rr_new = r.square().sum(1)
        beta = torch.where(running, rr_new / rr.clamp(min=torch.finfo(rhs.dtype).tiny), torch.zeros_like(rr))
        p = torch.where(running[:, None], r + beta[:, None] * p, p)
        rr = torch.where(running, rr_new, rr)
    return torch.where(negative[:, None], torch.zeros_like(x), x), negative
