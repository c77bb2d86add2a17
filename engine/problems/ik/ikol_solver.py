"""The `ikol` solvers of the ik problem: IKOL's Gauss-Newton layer (engine.problems.ik.ikol) on the iteration
interface, one record per Gauss-Newton iteration.

The twist comes from the ground truth (`ikol`, the paper's "twist given"), is zero (`ikol-zero`), or is
predicted from the targets by a trained twist network (`ikol-net`, engine.problems.ik.ikol_net).

Record t = 0 is alpha = 0 (the pelvis already in closed form, every swing joint twisted only), then one record per
iteration. The estimate x, prediction and energy are the ik problem's (problem.forward, problem.energy), so they
compare with the other solvers'; the step info is IKOL's own: step_norm |delta alpha|, damping u and
swing_residual_cm, the norm of the layer's residual f(alpha_t) - P in cm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

from ...solvers.base import IterativeSolver, Iteration, SolverParams, StepResult
from ...solvers.options import options_for
from ..spec import SolverEntry
from .ikol import DAMPING, ITERATIONS, NUM_SWING, gauss_newton_step, local_rotations, swing_inputs, swing_twist
from .kinematics import x_from_rotations
from .problem import CM

TWISTS = ("truth", "zero", "network")
RULE = "alpha += -(J^T J + u I)^-1 J^T r on the 18 swing angles about n = t x d, u = 0.1, {}"


@dataclass(frozen=True)
class IKOLParams(SolverParams):
    """IKOL's settings: 5 damped Gauss-Newton iterations from alpha = 0, always all of them (patience 0)."""

    max_iterations: int = ITERATIONS
    """Gauss-Newton iterations (IKOL: 5)."""
    patience: int = 0
    """0: never stop early; IKOL always runs its iterations."""
    damping: float = DAMPING
    """u of the step -(J^T J + u I)^-1 J^T r, residuals in metres (IKOL: 0.1)."""
    twist: str = "truth"
    """'truth': each swing joint's twist from the ground truth (the paper's 'twist given'); 'zero': no twist;
    'network': predicted by the twist network of `checkpoint`."""
    checkpoint: str | None = None
    """twist 'network': the checkpoint of `feedbacklab train ik --solver ikol-net` (default: the shipped one)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.twist not in TWISTS:
            raise ValueError(f"unknown IKOL twist {self.twist!r}; choose one of {', '.join(TWISTS)}")
        if not self.damping > 0:
            raise ValueError(f"IKOL's damping must be positive, got {self.damping:g}")


class IKOLSolver(IterativeSolver):
    """IKOL on the ik problem; the swing angles alpha (B, 18) and twist angles (B, 18) live in the state."""

    params: IKOLParams

    def __init__(self, params: IKOLParams | None = None, name: str | None = None):
        super().__init__(params or IKOLParams())
        self.name = name or {"truth": "ikol", "zero": "ikol-zero", "network": "ikol-net"}[self.params.twist]
        self._start_twist: torch.Tensor | None = None
        if self.params.twist == "network":
            from ...learn.checkpoint import check_kind, load_checkpoint
            from ...learn.solver import shipped_checkpoint
            from .ikol_net import TwistNetwork

            self.checkpoint_path = self.params.checkpoint or shipped_checkpoint("ik", "ikol-net")
            self.checkpoint = load_checkpoint(self.checkpoint_path, TwistNetwork)
            check_kind(self.checkpoint, self.checkpoint_path, self.name, feedback=False)

    def iterate(self, problem: Any, observation: torch.Tensor, x0: torch.Tensor,
                ground_truth: torch.Tensor | None = None) -> Iterator[Iteration]:
        """The base loop from the layer's alpha = 0 pose; x0 is ignored, as IKOL always starts from alpha = 0.

        Overridden because the 'truth' twist needs the ground truth, which init_state(x0) does not receive: it is
        decomposed here and handed to init_state through the solver, right before the base loop calls it."""
        problem.observation_spec.check(observation, problem.batch_size)
        twist = self._twist(problem, observation, x0, ground_truth)
        alpha = twist.new_zeros(twist.shape)
        start = x_from_rotations(local_rotations(alpha, swing_inputs(observation, twist, problem.rest_joints)))
        self._start_twist = twist
        yield from super().iterate(problem, observation, start.to(x0.dtype), ground_truth)

    def _twist(self, problem: Any, observation: torch.Tensor, x0: torch.Tensor,
               ground_truth: torch.Tensor | None) -> torch.Tensor:
        if self.params.twist == "zero":
            return x0.new_zeros(problem.batch_size, NUM_SWING)
        if self.params.twist == "network":
            from .learned import check_skeleton

            check_skeleton(self.checkpoint.meta, self.checkpoint_path, problem.rest_joints)
            network = self.checkpoint.networks[0].to(observation.device)
            with torch.no_grad():
                pairs = network(observation, problem.rest_joints.to(observation))
            return torch.atan2(pairs[..., 1], pairs[..., 0]).to(x0.dtype)
        if ground_truth is None:
            raise ValueError(f"solver {self.name} takes each joint's twist from the ground truth and none was given: "
                             "use ikol-net or give ground truth")
        if ground_truth.shape != (problem.batch_size, x0.shape[1]):
            raise ValueError(f"ground truth must have the shape of x0 {tuple(x0.shape)}, "
                             f"got {tuple(ground_truth.shape)}")
        return swing_twist(ground_truth.to(x0.dtype), problem.rest_joints)[1]

    def init_state(self, x0: torch.Tensor) -> dict[str, torch.Tensor]:
        if self._start_twist is None or self._start_twist.shape[0] != x0.shape[0]:
            raise ValueError(f"solver {self.name} starts from its own iterate(), which sets the twist")
        return {"alpha": x0.new_zeros(x0.shape[0], NUM_SWING), "twist": self._start_twist}

    def step(self, problem: Any, observation: torch.Tensor, x: torch.Tensor, state: dict[str, torch.Tensor],
             iteration: int) -> StepResult:
        inputs = swing_inputs(observation.to(x.dtype), state["twist"], problem.rest_joints)
        prediction = problem.forward(x)
        energy = problem.energy(prediction, observation, x)
        alpha, residual, delta = gauss_newton_step(state["alpha"], inputs, self.params.damping)
        state["alpha"] = alpha
        next_x = x_from_rotations(local_rotations(alpha, inputs))
        info = {"step_norm": delta.norm(dim=1), "damping": torch.full_like(energy, self.params.damping),
                "swing_residual_cm": CM * residual.norm(dim=1)}
        return StepResult(prediction, energy, next_x, info)


def _factory(twist: str) -> Callable[..., IterativeSolver]:
    def make(**options: Any) -> IterativeSolver:
        settings = options_for(IKOLParams, options)
        settings.pop("max_iterations", None)  # IKOL is its 5 iterations, not the runs' iteration limit
        if twist != "network":
            settings.pop("checkpoint", None)  # only the twist network reads one
        return IKOLSolver(IKOLParams(**{**settings, "twist": twist}))
    return make


IKOL_SOLVERS = (
    SolverEntry("ikol", "optimizer", "IKOL: Gauss-Newton on 18 swing angles, twist from the ground truth",
                _factory("truth"), RULE.format("twist given")),
    SolverEntry("ikol-zero", "optimizer", "IKOL with zero twist: positions still fit, rotations do not",
                _factory("zero"), RULE.format("twist zero")),
    SolverEntry("ikol-net", "learned", "IKOL's pipeline: a network predicts the twist, the layer solves the swings",
                _factory("network"), RULE.format("twist from a network trained through the layer")),
)
