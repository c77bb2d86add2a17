"""pose6d's solvers: optimizers through the NMR- and SoftRas-style rasterizers, the learned feedback solvers
and their chain; each a SolverEntry of the spec."""
from __future__ import annotations

from typing import Any, Callable

from ...solvers.base import IterativeSolver
from ...solvers.chain import ChainedSolver
from ...solvers.options import options_for
from ...solvers.generic import GradientOptimizer, GradientOptimizerParams
from ..spec import SolverEntry
from .softras_optimizer import SoftRasOptimizer, SoftRasParams

ADAM_RULE = "dx_t = -lr * m_t / (sqrt(v_t) + eps): Adam on the gradient of E through the {} rasterizer"
LBFGS_RULE = "dx_t = -H_t grad E: L-BFGS through the {} rasterizer, step length capped"
FEEDBACK_RULE = "dx_t = g_t(y, f(x_t), y - f(x_t), x_t): a network reads the feedback"


def _optimizer(rasterizer: str, method: str = "adam") -> Callable[..., IterativeSolver]:
    """Adam, or L-BFGS with its step length capped instead of a line search (NMR's gradient is not the gradient
    of anything a line search could test), through one of the torch rasterizers; SoftRas' with its sigma
    schedule (softras_optimizer)."""
    name = rasterizer if method == "adam" else f"{rasterizer}-lbfgs"

    def make(**o: Any) -> IterativeSolver:
        if rasterizer == "softras":
            options = {"line_search": False, **options_for(SoftRasParams, o), "method": method}
            return SoftRasOptimizer(SoftRasParams(**options), name)
        options = {"line_search": False, **options_for(GradientOptimizerParams, o), "method": method,
                   "forward_options": {"rasterizer": rasterizer}}
        return GradientOptimizer(GradientOptimizerParams(**options), name)
    return make


def _learned(kind: str, damped: bool = False) -> Callable[..., IterativeSolver]:
    def make(**o: Any) -> IterativeSolver:
        from .feedback import LearnedSolver, Pose6DLearnedParams  # the learned solver imports the trainer

        options = options_for(Pose6DLearnedParams, o)
        options.pop("max_iterations", None)  # the checkpoint sets the number of steps
        return LearnedSolver(Pose6DLearnedParams(kind=kind, damped=damped, **options))
    return make


SOLVERS = (
    SolverEntry("nmr", "optimizer", "Adam through the NMR-style rasterizer (hard silhouette, approximate gradient)",
                _optimizer("nmr"), ADAM_RULE.format("NMR-style")),
    SolverEntry("softras", "optimizer", "Adam through the SoftRas-style rasterizer (probabilistic silhouette)",
                _optimizer("softras"), ADAM_RULE.format("SoftRas-style")),
    SolverEntry("nmr-lbfgs", "optimizer", "L-BFGS through the NMR-style rasterizer",
                _optimizer("nmr", "lbfgs"), LBFGS_RULE.format("NMR-style")),
    SolverEntry("softras-lbfgs", "optimizer", "L-BFGS through the SoftRas-style rasterizer",
                _optimizer("softras", "lbfgs"), LBFGS_RULE.format("SoftRas-style")),
    SolverEntry("feedback", "learned", "deep feedback solver, 5 steps, one network per step", _learned("feedback"),
                FEEDBACK_RULE),
    SolverEntry("feedback-damped", "learned", "deep feedback solver with the damped adaptive update (Sec. 3.3)",
                _learned("feedback", damped=True), FEEDBACK_RULE + ", step halved until E falls"),
    SolverEntry("feedback-shared", "learned", "deep feedback solver, one network shared by every step",
                _learned("feedback-shared"), FEEDBACK_RULE),
    SolverEntry("regression", "learned", "deep regression baseline: one step, no feedback", _learned("regression"),
                "x_1 = g(y): one network pass, no feedback"),
    SolverEntry("feedback+softras", "chain", "the feedback solver's result as SoftRas' initial estimate",
                lambda **o: ChainedSolver("feedback+softras", _learned("feedback")(**o), _optimizer("softras")(**o)),
                FEEDBACK_RULE + ", then Adam through the SoftRas-style rasterizer"),
)
