"""Trust-region Newton: convergence on the toys, batch independence, indefinite starts, the generic registry."""
from __future__ import annotations

import torch

from engine.solvers.base import Status
from engine.solvers.generic import generic_solver_entries, make_generic
from engine.solvers.newton import NewtonParams, NewtonSolver, item_hessians

from .toy_problems import LinearToy, RosenbrockToy


def test_item_hessians_of_a_batch(device):
    y = torch.randn(3, 2, device=device, requires_grad=True)
    energy = (y[:, 0] ** 2 * y[:, 1] + y[:, 1] ** 3).sum()
    (gradient,) = torch.autograd.grad(energy, y, create_graph=True)
    hessian = item_hessians(gradient, y)
    expected = torch.stack([torch.stack([2 * y[:, 1], 2 * y[:, 0]], 1),
                            torch.stack([2 * y[:, 0], 6 * y[:, 1]], 1)], 1)
    torch.testing.assert_close(hessian, expected.detach())


def test_newton_solves_a_linear_least_squares_in_one_or_two_steps(device):
    matrix = torch.randn(4, 5, 3, generator=torch.Generator().manual_seed(0)).to(device)
    problem = LinearToy(matrix)
    truth = torch.randn(4, 3, device=device)
    last = NewtonSolver().solve(problem, problem.forward(truth), torch.zeros(4, 3, device=device))
    torch.testing.assert_close(last.x, truth, atol=1e-4, rtol=1e-4)
    assert (last.status == Status.CONVERGED).all() and last.index <= 5


def test_newton_reaches_the_rosenbrock_minimum_from_the_classic_start(device):
    problem = RosenbrockToy(2)
    observation = torch.tensor([RosenbrockToy.TARGET] * 2, device=device)
    start = torch.tensor([RosenbrockToy.START, (2.0, -1.0)], device=device)
    last = make_generic("newton").solve(problem, observation, start)
    torch.testing.assert_close(last.x, torch.ones(2, 2, device=device), atol=1e-3, rtol=1e-3)
    assert set(last.info) == {"damping", "accepted", "gain_ratio", "gradient_norm"}


def test_newton_is_offered_to_problems_with_hessians_only():
    assert "newton" in {entry.name for entry in generic_solver_entries(frozenset({"hessian"}))}
    assert "newton" not in {entry.name for entry in generic_solver_entries(frozenset({"differentiable"}))}
    assert make_generic("newton", max_iterations=7, learning_rate=0.5).params.max_iterations == 7


def test_bad_settings():
    import pytest

    with pytest.raises(ValueError, match="damping must be positive"):
        NewtonParams(damping=0.0)
