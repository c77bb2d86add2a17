"""Problem-independent classic solvers: gradient optimizers (Adam, L-BFGS) and least squares (Gauss-Newton,
Levenberg-Marquardt), on the iteration interface of engine.solvers.base.

They know a problem only through the contract of engine.problems.spec (duck typing):

    gradient optimizers: problem.forward_differentiable(x, **forward_options), problem.energy, problem.retract
    least squares:       problem.residuals(x, observation) -> (B, R), problem.retract, problem.tangent_dim,
                         optional problem.residual_jacobian(x, observation) -> (B, R, d), or
                         problem.linearize(x, observation) -> (prediction, residuals, Jacobian) in one pass

Every update is taken in the tangent space of the parameter manifold: the solver computes dx (B, d) at dx = 0
and moves to retract(x, dx), so quaternions and rotation vectors need nothing special here. All state is per
item (batch-first), so every item of a batch keeps its own moments, curvature pairs or damping.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import torch

from ..problems.spec import SolverEntry
from .base import IterativeSolver, SolverParams, StepResult
from .newton import NewtonParams, NewtonSolver
from .options import options_for

GRADIENT_METHODS = ("adam", "lbfgs")
LEAST_SQUARES_METHODS = ("gauss-newton", "lm")
JACOBIANS = ("auto", "autodiff")
SINGULAR = "singular normal equations (J^T J not positive definite)"
ARMIJO = 1e-4
"""Sufficient decrease of the line search: E(x + a p) <= E(x) + ARMIJO * a * g.p."""


# --- gradient optimizers ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GradientOptimizerParams(SolverParams):
    """Settings of Adam or L-BFGS on a problem's differentiable energy; the stopping rule is the base's (500
    iterations, or 20 without improvement), the paper's for its optimization baselines."""

    method: str = "adam"
    """'adam' or 'lbfgs'."""
    forward_options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of problem.forward_differentiable (e.g. {'rasterizer': 'nmr'})."""
    learning_rate: float = 0.01
    """Adam's step size (tangent units per iteration)."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam's moment decay rates."""
    history: int = 10
    """L-BFGS: number of curvature pairs kept."""
    line_search: bool = True
    """L-BFGS: backtracking Armijo search on the energy; off: steps are capped at max_step instead (for
    approximate gradients such as NMR's, which a line search would defeat)."""
    line_search_halvings: int = 10
    """L-BFGS line search: the step is halved at most this many times; an item that finds no decrease keeps x."""
    max_step: float = 0.05
    """L-BFGS: largest step norm without a line search; with one, the length of the first (steepest descent) step."""
    gradient_tolerance: float = 1e-7
    """An item has converged when its energy gradient norm is below this (0: never)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.method not in GRADIENT_METHODS:
            raise ValueError(f"unknown optimizer method {self.method!r}; choose one of {', '.join(GRADIENT_METHODS)}")
        if self.learning_rate <= 0 or self.max_step <= 0:
            raise ValueError("learning_rate and max_step must be positive")
        if not all(0.0 <= beta < 1.0 for beta in self.betas) or len(self.betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas}")
        if self.history < 1 or self.line_search_halvings < 0 or self.max_iterations < 0:
            raise ValueError("history must be >= 1, line_search_halvings and max_iterations >= 0")
        if self.gradient_tolerance < 0:
            raise ValueError("gradient_tolerance must be >= 0")


class GradientOptimizer(IterativeSolver):
    """Adam or L-BFGS on energy(forward_differentiable(x), observation, x), stepping in the tangent space.

    The gradient is that of dx -> energy at retract(x, dx), taken at dx = 0, and the step is
    next_x = retract(x, -step). For a Euclidean problem (retract = x + dx) with line_search=False this is
    RenderOptimizer's update exactly."""

    params: GradientOptimizerParams

    def __init__(self, params: GradientOptimizerParams | None = None, name: str | None = None):
        super().__init__(params or GradientOptimizerParams())
        self.name = name or self.params.method

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        # State vectors are D wide (init_state sees no problem, so not the tangent dimension d <= D): gradients are
        # zero-padded to D, which leaves moments, dot products and the padded part of every step at zero.
        batch, dim = x0.shape
        if self.params.method == "adam":
            return {"first_moment": torch.zeros_like(x0), "second_moment": torch.zeros_like(x0),
                    "steps": torch.zeros(batch, 1, device=x0.device, dtype=x0.dtype)}
        history = self.params.history
        return {"s": x0.new_zeros(batch, history, dim), "y": x0.new_zeros(batch, history, dim),
                "stored": torch.zeros(batch, dtype=torch.int64, device=x0.device),
                "started": torch.zeros(batch, dtype=torch.bool, device=x0.device),
                "previous_step": torch.zeros_like(x0), "previous_grad": torch.zeros_like(x0)}

    def forward_options(self, iteration: int) -> dict[str, Any]:
        """The keyword arguments of problem.forward_differentiable at this iteration: the params' own throughout
        (a subclass may change them over the iterations, e.g. SoftRas' sharpness)."""
        return self.params.forward_options

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        x = x.detach()
        tangent = _tangent_dim(problem, x)
        if tangent > x.shape[1]:
            raise ValueError(f"tangent_dim {tangent} exceeds the parameter dimension {x.shape[1]}")
        forward_options = self.forward_options(iteration)
        dx = x.new_zeros(x.shape[0], tangent).requires_grad_(True)
        moved = problem.retract(x, dx)
        prediction = problem.forward_differentiable(moved, **forward_options)
        energy = problem.energy(prediction, observation, moved)
        (grad,) = torch.autograd.grad(energy.sum(), dx)
        grad = torch.nn.functional.pad(torch.nan_to_num(grad), (0, x.shape[1] - tangent))
        energy = energy.detach()
        info = {"gradient_norm": grad.norm(dim=1)}
        converged = info["gradient_norm"] < self.params.gradient_tolerance
        if self.params.method == "adam":
            step = self._adam(grad, state)
        elif not self.params.line_search:
            step = _capped(self._direction(grad, state), self.params.max_step)
            state["previous_step"] = step
        else:
            step, info["step_length"], stalled = self._line_search(problem, observation, x, energy, grad, state,
                                                                   forward_options)
            converged |= stalled
        next_x = problem.retract(x, step[:, :tangent])
        return StepResult(prediction.detach(), energy, next_x.detach(), info, converged=converged)

    def _adam(self, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
        beta1, beta2 = self.params.betas
        state["steps"] = state["steps"] + 1
        state["first_moment"] = beta1 * state["first_moment"] + (1 - beta1) * grad
        state["second_moment"] = beta2 * state["second_moment"] + (1 - beta2) * grad.square()
        first = state["first_moment"] / (1 - beta1 ** state["steps"])
        second = state["second_moment"] / (1 - beta2 ** state["steps"])
        return -self.params.learning_rate * first / (second.sqrt() + 1e-8)

    def _direction(self, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """The L-BFGS direction -H g per item, after storing the curvature pair of the previous step."""
        y_new = grad - state["previous_grad"]
        s_new = state["previous_step"]
        accept = state["started"] & ((s_new * y_new).sum(1) > 1e-10)
        if accept.any():
            state["s"][accept] = torch.cat([state["s"][accept, 1:], s_new[accept, None]], dim=1)
            state["y"][accept] = torch.cat([state["y"][accept, 1:], y_new[accept, None]], dim=1)
            state["stored"][accept] = (state["stored"][accept] + 1).clamp(max=self.params.history)
        state["previous_grad"] = grad.clone()
        state["started"] = torch.ones_like(state["started"])
        return -_two_loop(grad, state["s"], state["y"], state["stored"], self.params.max_step)

    def _line_search(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, energy: torch.Tensor,
                     grad: torch.Tensor, state: dict[str, torch.Tensor], forward_options: dict[str, Any]
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Backtracking Armijo search along the L-BFGS direction, per item; returns the step (zero where no
        decrease was found), its length along the direction and the items found stationary.

        An item whose direction is not a descent direction restarts from steepest descent (history cleared).
        An item that finds no decrease keeps x and clears its history; it counts as converged when even the
        first candidate's predicted decrease is within float rounding of its energy (a stationary point)."""
        tangent = _tangent_dim(problem, x)
        direction = self._direction(grad, state)
        slope = (grad * direction).sum(1)
        uphill = slope >= 0
        if uphill.any():
            direction[uphill] = -grad[uphill] * (self.params.max_step / grad[uphill].norm(dim=1, keepdim=True)
                                                 .clamp(min=1e-12))
            slope = (grad * direction).sum(1)
            state["stored"][uphill] = 0
        length = torch.ones_like(energy)
        found = torch.zeros_like(uphill)
        searching = torch.arange(x.shape[0], device=x.device)
        for _ in range(self.params.line_search_halvings + 1):
            sub = problem if searching.numel() == x.shape[0] else problem.subset(searching)
            with torch.no_grad():
                candidate = sub.retract(x[searching], (length[searching, None] * direction[searching])[:, :tangent])
                problem_energy = sub.energy(sub.forward_differentiable(candidate, **forward_options),
                                            observation[searching], candidate)
            ok = problem_energy <= energy[searching] + ARMIJO * length[searching] * slope[searching]
            ok &= torch.isfinite(problem_energy)
            found[searching[ok]] = True
            searching = searching[~ok]
            if searching.numel() == 0:
                break
            length[searching] = length[searching] / 2
        length = torch.where(found, length, torch.zeros_like(length))
        step = length[:, None] * direction
        state["previous_step"] = step
        state["stored"][~found] = 0
        last_try = 0.5 ** self.params.line_search_halvings
        rounding = 8 * torch.finfo(energy.dtype).eps * energy.abs()
        return step, length, ~found & (last_try * slope.abs() <= rounding)


def _two_loop(grad: torch.Tensor, s: torch.Tensor, y: torch.Tensor, stored: torch.Tensor,
              first_step: float) -> torch.Tensor:
    """H g by the L-BFGS two-loop recursion over each item's newest `stored` pairs (oldest first in s, y);
    without pairs, H = first_step / |g| (a steepest descent step of norm first_step)."""
    history = s.shape[1]
    valid = torch.arange(history, device=grad.device)[None] >= history - stored[:, None]
    rho = torch.where(valid, 1.0 / (s * y).sum(-1).clamp(min=1e-10), torch.zeros_like(valid, dtype=grad.dtype))
    q = grad.clone()
    alpha = torch.zeros_like(rho)
    for i in reversed(range(history)):
        alpha[:, i] = rho[:, i] * (s[:, i] * q).sum(1)
        q = q - alpha[:, i : i + 1] * y[:, i]
    newest_s, newest_y = s[:, -1], y[:, -1]
    gamma = torch.where(stored > 0, (newest_s * newest_y).sum(1) / newest_y.square().sum(1).clamp(min=1e-10),
                        first_step / grad.norm(dim=1).clamp(min=1e-12))
    r = gamma[:, None] * q
    for i in range(history):
        beta = rho[:, i] * (y[:, i] * r).sum(1)
        r = r + s[:, i] * (alpha[:, i] - beta)[:, None]
    return r


def _capped(step: torch.Tensor, max_step: float) -> torch.Tensor:
    return step * (max_step / step.norm(dim=1, keepdim=True).clamp(min=max_step))


def _tangent_dim(problem: Any, x: torch.Tensor) -> int:
    return int(getattr(problem, "tangent_dim", x.shape[1]))


# --- least squares ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeastSquaresParams(SolverParams):
    """Settings of Gauss-Newton or Levenberg-Marquardt on a problem's residuals.

    The error is e = sum r^2 (the problem's energy). The normal equations (J^T J + D) dx = -J^T r are solved
    per item by Cholesky; D = 0 for Gauss-Newton."""

    max_iterations: int = 100
    """Stop an item after this many updates."""
    method: str = "lm"
    """'gauss-newton' or 'lm' (Levenberg-Marquardt)."""
    jacobian: str = "auto"
    """'auto': the problem's residual_jacobian when it has one, else forward-mode autodiff; 'autodiff': always
    forward-mode autodiff (torch.func.jacfwd; the residuals must be vmap-able)."""
    damping: float = 1e-3
    """LM: initial damping lambda."""
    ellipsoidal: bool = True
    """LM: D = lambda diag(J^T J) + 1e-8 (scale-invariant); off: D = lambda I."""
    accept_threshold: float = 0.1
    """LM: a step is taken when its gain ratio (actual / predicted error decrease) exceeds this."""
    damping_decrease: float = 9.0
    """LM: lambda is divided by this after an accepted step."""
    damping_increase: float = 11.0
    """LM: lambda is multiplied by this after a rejected step."""
    min_damping: float = 1e-7
    """LM: lower bound of lambda."""
    max_damping: float = 1e7
    """LM: upper bound of lambda."""
    step_tolerance: float = 1e-7
    """Converged when |dx| < step_tolerance (|x| + step_tolerance)."""
    tolerance: float = 1e-7
    """Converged when a step taken lowers the error by less than this fraction."""
    gradient_tolerance: float = 1e-8
    """Converged when |J^T r| is below this."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.method not in LEAST_SQUARES_METHODS:
            raise ValueError(f"unknown least-squares method {self.method!r}; "
                             f"choose one of {', '.join(LEAST_SQUARES_METHODS)}")
        if self.jacobian not in JACOBIANS:
            raise ValueError(f"unknown jacobian {self.jacobian!r}; choose one of {', '.join(JACOBIANS)}")
        if not 0 < self.min_damping <= self.damping <= self.max_damping:
            raise ValueError("damping must be positive and within [min_damping, max_damping]")
        if self.damping_decrease <= 1 or self.damping_increase <= 1:
            raise ValueError("damping_decrease and damping_increase must be > 1")
        if not 0 <= self.accept_threshold < 1:
            raise ValueError("accept_threshold must be in [0, 1)")
        if min(self.step_tolerance, self.tolerance, self.gradient_tolerance) < 0 or self.max_iterations < 0:
            raise ValueError("tolerances and max_iterations must be >= 0")


class LeastSquaresSolver(IterativeSolver):
    """Gauss-Newton or Levenberg-Marquardt (Gavin's gain-ratio damping rule) on problem.residuals.

    Step info: 'step_norm' (both), and for LM 'damping' (the lambda of this step), 'accepted' (1/0) and
    'gain_ratio' (NaN when the predicted decrease is not positive). An item whose normal equations Cholesky
    cannot factor fails alone (Gauss-Newton has no damping to save a rank-deficient J)."""

    params: LeastSquaresParams

    def __init__(self, params: LeastSquaresParams | None = None, name: str | None = None):
        super().__init__(params or LeastSquaresParams())
        self.name = name or self.params.method

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.params.method == "lm":
            return {"damping": torch.full((x0.shape[0],), self.params.damping, device=x0.device, dtype=x0.dtype)}
        return {"previous_error": torch.full((x0.shape[0],), float("inf"), device=x0.device, dtype=x0.dtype)}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        p = self.params
        x = x.detach()
        prediction, error, normal, gradient = self._normal_equations(problem, observation, x, state)
        if p.method == "lm":
            damping = state["damping"]
            diagonal = (damping[:, None] * normal.diagonal(dim1=1, dim2=2) + 1e-8 if p.ellipsoidal
                        else damping[:, None].expand_as(gradient))
            normal = normal + torch.diag_embed(diagonal)
        factor, status = torch.linalg.cholesky_ex(normal)
        failed = status != 0
        dx = torch.cholesky_solve(-gradient[:, :, None], factor).squeeze(2)
        dx = torch.where(failed[:, None], torch.zeros_like(dx), dx)
        step_norm = dx.norm(dim=1)
        converged = ((step_norm < p.step_tolerance * (x.norm(dim=1) + p.step_tolerance))
                     | (gradient.norm(dim=1) < p.gradient_tolerance)) & ~failed
        info = {"step_norm": torch.where(failed, torch.full_like(step_norm, float("nan")), step_norm)}
        if p.method == "gauss-newton":
            previous = state["previous_error"]
            decrease = previous - error
            converged |= torch.isfinite(previous) & (decrease >= 0) & (decrease <= p.tolerance * previous)
            state["previous_error"] = error.detach()
            next_x = torch.where(failed[:, None], x, problem.retract(x, dx))
        else:
            next_x, accepted, gain_ratio, decrease = self._damped(problem, observation, x, dx, error, gradient,
                                                                  diagonal, failed, state)
            state["unchanged"] = ~accepted  # a rejected step leaves x, and so its normal equations, as they were
            converged |= accepted & (decrease <= p.tolerance * error)
            info.update(damping=damping, accepted=accepted.to(x.dtype), gain_ratio=gain_ratio)
        return StepResult(prediction, error.detach(), next_x.detach(), info, failed=failed, failure=SINGULAR,
                          converged=converged)

    def _normal_equations(self, problem: Any, observation: torch.Tensor, x: torch.Tensor,
                          state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """prediction, error |r|^2, J^T J and J^T r at x: LM keeps them for the items whose last step was
        rejected (x did not move), so only the others are linearized again."""
        stale = ~state["unchanged"] if "unchanged" in state else torch.ones(len(x), dtype=torch.bool,
                                                                             device=x.device)
        if bool(stale.any()):
            index = torch.nonzero(stale).squeeze(1)
            part = problem if bool(stale.all()) else problem.subset(index)
            prediction, residual, jacobian = linearize(part, x[index], observation[index],
                                                       analytic=self.params.jacobian == "auto")
            values = {"prediction": prediction, "error": residual.square().sum(1),
                      "normal": jacobian.transpose(1, 2) @ jacobian,
                      "gradient": (jacobian.transpose(1, 2) @ residual[:, :, None]).squeeze(2)}  # half the gradient
            if self.params.method == "gauss-newton":  # always moves: nothing to keep
                return tuple(values.values())
            for key, value in values.items():
                if key not in state:
                    state[key] = value.new_zeros((len(x),) + value.shape[1:])
                state[key][index] = value
        return state["prediction"], state["error"], state["normal"], state["gradient"]

    def _damped(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, dx: torch.Tensor,
                error: torch.Tensor, gradient: torch.Tensor, diagonal: torch.Tensor, failed: torch.Tensor,
                state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The LM gain-ratio test of the step dx; updates the damping. Returns next_x, accepted, gain ratio and
        the error decrease of the candidate.

        With e = |r|^2 and (J^T J + D) dx = -J^T r, the linear model predicts the decrease
        e - |r + J dx|^2 = dx^T (D dx - J^T r) (twice Gavin's expression, whose error is half ours)."""
        p = self.params
        candidate = problem.retract(x, dx)
        actual = error - _error(problem, observation, candidate)
        predicted = (dx * (diagonal * dx - gradient)).sum(1)
        gain_ratio = torch.where(predicted > 0, actual / predicted.clamp(min=torch.finfo(x.dtype).tiny),
                                 torch.full_like(actual, float("nan")))
        accepted = (gain_ratio > p.accept_threshold) & ~failed
        damping = torch.where(accepted, state["damping"] / p.damping_decrease, state["damping"] * p.damping_increase)
        state["damping"] = torch.where(failed, state["damping"], damping.clamp(p.min_damping, p.max_damping))
        return torch.where(accepted[:, None], candidate, x), accepted, gain_ratio, actual


def _error(problem: Any, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return problem.residuals(x, observation).square().sum(1)


def linearize(problem: Any, x: torch.Tensor, observation: torch.Tensor,
              analytic: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The prediction at x, the residuals (B, R) and their Jacobian (B, R, d) w.r.t. the tangent dx at 0 of
    residuals(retract(x, dx)).

    With `analytic`, the problem's own linearize (all three from one pass) or residual_jacobian is used when it
    has one; else forward-mode autodiff with one tangent per coordinate shared by all items: since items are
    independent, d r_b / d v_k of v -> residuals(retract(x, v broadcast to every item)) is item b's own column
    k, so d forward passes (vectorised by vmap) give the whole batch's Jacobians."""
    with torch.no_grad():
        if analytic and hasattr(problem, "linearize"):
            return problem.linearize(x, observation)
        prediction = problem.forward(x)
        if analytic and hasattr(problem, "residual_jacobian"):
            return prediction, problem.residuals(x, observation), problem.residual_jacobian(x, observation)
    batch, tangent = x.shape[0], _tangent_dim(problem, x)

    def residuals(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        value = problem.residuals(problem.retract(x, v.expand(batch, tangent)), observation)
        return value, value

    jacobian, value = torch.func.jacfwd(residuals, has_aux=True)(x.new_zeros(tangent))
    return prediction, value.detach(), jacobian.detach()


# --- names --------------------------------------------------------------------------------------------------------

class GenericSolverInfo(NamedTuple):
    """What the workbench shows about a generic solver and what a problem needs to offer it."""

    kind: str
    description: str
    capability: str
    """'differentiable' (problem.forward_differentiable), 'residuals' (problem.residuals) or 'hessian' (an energy
    twice differentiable through forward_differentiable)."""
    update_rule: str
    """The rule that makes dx_t, for the teach panel."""


GENERIC_SOLVERS: dict[str, GenericSolverInfo] = {
    "adam": GenericSolverInfo(
        "optimizer", "Adam on the energy gradient, per-item moments", "differentiable",
        "m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  dx = -lr m^ / (sqrt(v^) + eps)"),
    "lbfgs": GenericSolverInfo(
        "optimizer", "L-BFGS with a backtracking Armijo line search", "differentiable",
        "dx = -a H g  (H: inverse Hessian from the last curvature pairs, a: halved until the energy drops)"),
    "gauss-newton": GenericSolverInfo(
        "optimizer", "Gauss-Newton on the residuals (undamped normal equations)", "residuals",
        "dx = -(J^T J)^-1 J^T r"),
    "lm": GenericSolverInfo(
        "optimizer", "Levenberg-Marquardt, gain-ratio damping per item", "residuals",
        "dx = -(J^T J + lambda D)^-1 J^T r"),
    "newton": GenericSolverInfo(
        "optimizer", "trust-region Newton on the exact Hessian, gain-ratio damping per item", "hessian",
        "dx = -(H + mu I)^-1 g  (H, g: the energy's exact Hessian and gradient)"),
}

_CLASSES: dict[str, tuple[type[IterativeSolver], type[SolverParams]]] = {
    "adam": (GradientOptimizer, GradientOptimizerParams),
    "lbfgs": (GradientOptimizer, GradientOptimizerParams),
    "gauss-newton": (LeastSquaresSolver, LeastSquaresParams),
    "lm": (LeastSquaresSolver, LeastSquaresParams),
    "newton": (NewtonSolver, NewtonParams),
}


def make_generic(name: str, **overrides: Any) -> IterativeSolver:
    """The generic solver `name` with its defaults, overridden by those overrides its settings have a field for
    (e.g. learning_rate means nothing to LM); the name fixes the method."""
    if name not in GENERIC_SOLVERS:
        raise ValueError(f"unknown generic solver {name!r}; choose from {', '.join(GENERIC_SOLVERS)}")
    solver_class, params_class = _CLASSES[name]
    options = options_for(params_class, overrides)
    if "method" in {f.name for f in dataclasses.fields(params_class)}:
        options["method"] = name
    return solver_class(params_class(**options))  # type: ignore[call-arg]


def generic_solver_entries(capabilities: frozenset[str]) -> tuple[SolverEntry, ...]:
    """The generic solvers a problem with these capabilities can run, as ProblemSpec.solvers entries."""
    return tuple(SolverEntry(name, info.kind, info.description, _factory(name), info.update_rule)
                 for name, info in GENERIC_SOLVERS.items() if info.capability in capabilities)


def _factory(name: str) -> Callable[..., IterativeSolver]:
    return lambda **overrides: make_generic(name, **overrides)
