"""The illumination problem's solvers: Adam through the NMR-style Lambertian renderer (directional light, as
NMR; and with a point light, which NMR cannot do), the learned feedback solvers, the regression baseline and the
feedback solver's result refined by Adam; each a SolverEntry of the spec."""
from __future__ import annotations

from typing import Any, Callable

from ...learn.solver import LearnedSolverParams
from ...solvers.base import IterativeSolver
from ...solvers.chain import ChainedSolver
from ...solvers.generic import GradientOptimizer, GradientOptimizerParams
from ...solvers.options import options_for
from ..spec import SolverEntry

LEARNING_RATE = 0.02
"""Adam's step in metres of light position per iteration: from (0, 0, 1) to any light of the hemisphere in
about 70 steps, well inside the stopping rule's 500."""
ADAM_RULE = "dx_t = -lr * m_t / (sqrt(v_t) + eps): Adam on the gradient of E through the Lambertian renderer ({})"
FEEDBACK_RULE = "dx_t = g_t(y, f(x_t), y - f(x_t), x_t): a network reads the feedback"


def _adam(light: str | None, name: str) -> Callable[..., IterativeSolver]:
    """Adam with the paper's stopping rule (500 iterations or 20 without improvement) on the image difference
    through the NMR-style renderer with this light kind (None: the problem's)."""
    def make(**o: Any) -> IterativeSolver:
        options = {"learning_rate": LEARNING_RATE, **options_for(GradientOptimizerParams, o), "method": "adam",
                   "forward_options": {} if light is None else {"light": light}}
        return GradientOptimizer(GradientOptimizerParams(**options), name=name)
    return make


def _learned(kind: str) -> Callable[..., IterativeSolver]:
    def make(**o: Any) -> IterativeSolver:
        from .learned import IlluminationLearnedSolver  # the learned solver imports torch networks

        options = options_for(LearnedSolverParams, o)
        options.pop("max_iterations", None)  # the checkpoint sets the number of steps
        return IlluminationLearnedSolver(LearnedSolverParams(kind=kind, **options))
    return make


SOLVERS = (
    SolverEntry("nmr", "optimizer", "Adam through the NMR-style renderer: directional light, no shadows (as NMR)",
                _adam("directional", "nmr"), ADAM_RULE.format("directional light")),
    SolverEntry("nmr-point", "optimizer", "Adam through the same renderer with a point light (NMR has none)",
                _adam("point", "nmr-point"), ADAM_RULE.format("point light")),
    SolverEntry("feedback", "learned", "deep feedback solver, 7 steps, one encoder-decoder per step",
                _learned("feedback"), FEEDBACK_RULE),
    SolverEntry("feedback-shared", "learned", "deep feedback solver, one encoder-decoder shared by every step",
                _learned("feedback-shared"), FEEDBACK_RULE),
    SolverEntry("regression", "learned", "deep regression baseline: one step from the image alone",
                _learned("regression"), "x_1 = x_0 + g(y): one network pass, no feedback"),
    SolverEntry("feedback+nmr", "chain", "the feedback solver's result refined by Adam through the renderer of the "
                "problem's light", lambda **o: ChainedSolver("feedback+nmr", _learned("feedback")(**o),
                                                             _adam(None, "nmr")(**o)),
                FEEDBACK_RULE + ", then Adam through the Lambertian renderer"),
)
