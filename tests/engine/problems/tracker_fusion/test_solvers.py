"""tracker-fusion's solvers: the closed forms in one step, and the paper's minimisation (the lowest-energy RBF
centre, then L-BFGS or Newton) reaching a stationary point of the energy below its start."""
from __future__ import annotations

import pytest
import torch

from engine.problems.registry import get_problem
from engine.problems.tracker_fusion.problem import TrackerFusionConfig, make_problem
from engine.solvers.base import Status

SPEC = get_problem("tracker-fusion")


@pytest.fixture(scope="module")
def frames():
    problem = make_problem(TrackerFusionConfig(energy="untrained", sequences=4), "cpu", 6)
    return problem, problem.forward(problem.truth)


@pytest.mark.parametrize("name, expected", [
    ("mean", lambda p, o: o[..., :4].mean(1)), ("median", lambda p, o: o[..., :4].median(1).values),
    ("best-tracker", lambda p, o: o[:, p.best_tracker, :4]),
])
def test_closed_forms_take_one_step(frames, name, expected):
    problem, observation = frames
    records = list(SPEC.make_solver(name, max_iterations=50).iterate(problem, observation, problem.initial_estimate(),
                                                                     problem.truth))
    assert len(records) == 2 and (records[-1].status == Status.MAX_ITERATIONS).all()
    torch.testing.assert_close(records[0].x, problem.initial_estimate())
    torch.testing.assert_close(records[1].x, expected(problem, observation))


@pytest.mark.parametrize("name", ["rbf+lbfgs", "rbf+newton"])
def test_the_papers_minimisation_lowers_the_energy_to_a_stationary_point(frames, name):
    problem, observation = frames
    start = SPEC.make_solver("rbf-centre").solve(problem, observation, problem.initial_estimate())
    result = SPEC.make_solver(name).solve(problem, observation, problem.initial_estimate(), problem.truth)
    assert (result.energy <= start.energy + 1e-6).all()
    y = result.x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(problem.energy(None, observation, y).sum(), y)
    assert gradient.norm(dim=1).max() < 1e-3
    assert result.metrics["iou"].mean() > 0.5
