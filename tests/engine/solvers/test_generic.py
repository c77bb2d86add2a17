"""The generic solvers on toy problems (tests/engine/solvers/toy_problems.py)."""
import dataclasses

import pytest
import torch

from engine.solvers.base import Status
from engine.solvers.generic import (
    GENERIC_SOLVERS, SINGULAR, GradientOptimizer, GradientOptimizerParams, LeastSquaresParams, LeastSquaresSolver,
    generic_solver_entries, linearize, make_generic,
)

from .toy_problems import ChainToy, LinearToy, RosenbrockToy, RotationToy, rotation_angle


def linear_problem(batch, device, rows=6, columns=3):
    generator = torch.Generator().manual_seed(batch)
    matrix = torch.randn(batch, rows, columns, generator=generator) + 2 * torch.eye(rows, columns)
    observation = torch.randn(batch, rows, generator=generator)
    return LinearToy(matrix.to(device)), observation.to(device)


def rosenbrock(batch, device):
    problem = RosenbrockToy(batch)
    observation = torch.tensor([RosenbrockToy.TARGET] * batch, device=device)
    return problem, observation, torch.tensor([RosenbrockToy.START] * batch, device=device)


@pytest.mark.parametrize("batch", [1, 3])
def test_gauss_newton_solves_linear_least_squares_in_one_step(batch, device):
    problem, observation = linear_problem(batch, device)
    exact = torch.linalg.lstsq(problem.matrix.cpu(), observation.cpu()[:, :, None]).solution[:, :, 0]
    records = list(LeastSquaresSolver(LeastSquaresParams(method="gauss-newton")).iterate(
        problem, observation, torch.zeros(batch, 3, device=device)))
    assert torch.allclose(records[1].x.cpu(), exact, atol=1e-4)
    assert (records[-1].status == Status.CONVERGED).all() and len(records) <= 3
    assert "step_norm" in records[0].info


@pytest.mark.parametrize("batch", [1, 3])
def test_lm_solves_rosenbrock_with_meaningful_damping(batch, device):
    problem, observation, start = rosenbrock(batch, device)
    records = list(LeastSquaresSolver(LeastSquaresParams(method="lm")).iterate(problem, observation, start))
    last = records[-1]
    assert len(records) <= 101 and (last.status == Status.CONVERGED).all()
    assert torch.allclose(last.x.cpu(), torch.ones(batch, 2), atol=1e-3)
    assert records[0].info["damping"][0] == pytest.approx(1e-3)
    accepted = torch.stack([r.info["accepted"] for r in records])[:, 0].cpu()
    damping = torch.stack([r.info["damping"] for r in records])[:, 0].cpu()
    gain = torch.stack([r.info["gain_ratio"] for r in records])[:, 0].cpu()
    assert set(accepted.tolist()) <= {0.0, 1.0} and accepted.sum() >= 3
    for t in range(len(records) - 1):  # Gavin's rule, clamped
        expected = damping[t] / 9 if accepted[t] else damping[t] * 11
        assert damping[t + 1] == pytest.approx(float(expected.clamp(1e-7, 1e7)), rel=1e-5)
    assert ((gain > 0.1) == (accepted > 0))[torch.isfinite(gain)].all()
    energies = torch.stack([r.energy[0] for r in records]).cpu()
    assert (energies[1:] <= energies[:-1] + 1e-6).all()  # rejected steps keep x


def test_singular_item_fails_alone(device):
    problem, observation = linear_problem(3, device)
    problem.matrix[1, :, 2] = 0
    last = LeastSquaresSolver(LeastSquaresParams(method="gauss-newton")).solve(
        problem, observation, torch.zeros(3, 3, device=device))
    assert last.status.tolist() == [Status.CONVERGED, Status.FAILED, Status.CONVERGED]
    assert last.failures == {1: SINGULAR}
    assert torch.equal(last.x[1].cpu(), torch.zeros(3))
    exact = torch.linalg.lstsq(problem.matrix.cpu(), observation.cpu()[:, :, None]).solution[:, :, 0]
    assert torch.allclose(last.x[[0, 2]].cpu(), exact[[0, 2]], atol=1e-4)


@pytest.mark.parametrize("make", [
    lambda device: RosenbrockToy(3),
    lambda device: RotationToy(torch.randn(3, 4, 2, device=device)),
    lambda device: ChainToy(3, 4, device),
])
def test_analytic_jacobian_matches_autodiff(make, device):
    torch.manual_seed(0)
    problem = make(device)
    x = torch.randn(3, 2 if isinstance(problem, (RosenbrockToy, RotationToy)) else 12, device=device)
    if isinstance(problem, RotationToy):
        x = x / x.norm(dim=1, keepdim=True)
    observation = problem.forward(x) + 0.1
    _, residual, analytic = linearize(problem, x, observation)
    _, residual_ad, autodiff = linearize(problem, x, observation, analytic=False)
    assert analytic.shape == (3, observation.shape[1], problem.tangent_dim)
    assert torch.allclose(residual, residual_ad) and torch.allclose(analytic, autodiff, atol=1e-5)


def test_lm_on_a_kinematic_chain(device):
    torch.manual_seed(0)
    problem = ChainToy(2, 6, device)
    truth = 0.4 * torch.randn(2, 18, device=device)
    start = truth + 0.2 * torch.randn(2, 18, device=device)
    for jacobian in ("auto", "autodiff"):
        last = LeastSquaresSolver(LeastSquaresParams(jacobian=jacobian)).solve(problem, problem.forward(truth), start)
        assert (last.energy < 1e-8).all()


@pytest.mark.parametrize("method, options, energy_at_most", [
    ("adam", {"learning_rate": 0.05, "max_iterations": 400}, 1e-4),
    ("lbfgs", {}, 1e-8),
])
def test_gradient_optimizers_on_a_quadratic(method, options, energy_at_most, device):
    problem, observation = linear_problem(3, device, rows=3)  # square: the minimum energy is 0
    solver = GradientOptimizer(GradientOptimizerParams(method=method, **options))
    last = solver.solve(problem, observation, torch.zeros(3, 3, device=device))
    assert (last.energy < energy_at_most).all()


@pytest.mark.parametrize("batch", [1, 3])
def test_lbfgs_line_search_on_rosenbrock_never_raises_the_energy(batch, device):
    problem, observation, start = rosenbrock(batch, device)
    records = list(GradientOptimizer(GradientOptimizerParams(method="lbfgs")).iterate(problem, observation, start))
    energies = torch.stack([r.energy for r in records]).cpu()
    assert (energies[1:] <= energies[:-1]).all()
    assert torch.allclose(records[-1].x.cpu(), torch.ones(batch, 2), atol=1e-2)
    assert "step_length" in records[0].info


def test_adam_on_rosenbrock(device):
    problem, observation, start = rosenbrock(1, device)
    solver = GradientOptimizer(GradientOptimizerParams(method="adam", learning_rate=0.05, max_iterations=1500))
    assert solver.solve(problem, observation, start).energy[0] < 1e-3


@pytest.mark.parametrize("solver", [
    GradientOptimizer(GradientOptimizerParams(method="adam", learning_rate=0.02, max_iterations=300, patience=0)),
    GradientOptimizer(GradientOptimizerParams(method="lbfgs")),
    GradientOptimizer(GradientOptimizerParams(method="lbfgs", line_search=False)),
    LeastSquaresSolver(LeastSquaresParams(method="gauss-newton")),
    LeastSquaresSolver(LeastSquaresParams(method="lm")),
], ids=lambda solver: f"{solver.name}-{getattr(solver.params, 'line_search', '')}")
def test_solvers_step_on_the_rotation_manifold(solver, device):
    torch.manual_seed(1)
    points = torch.randn(3, 5, 2, device=device)
    problem = RotationToy(points)
    truth = torch.tensor([0.3, -2.0, 2.5], device=device)
    observation = problem.forward(RotationToy.from_angle(truth))
    last = solver.solve(problem, observation, RotationToy.from_angle(truth - torch.tensor([0.5, -0.4, 0.6],
                                                                                            device=device)))
    assert torch.allclose(last.x.norm(dim=1), torch.ones(3, device=device), atol=1e-5)
    assert torch.allclose(rotation_angle(last.x), truth, atol=2e-3)


@pytest.mark.parametrize("params_class, settings", [
    (GradientOptimizerParams, {"method": "sgd"}),
    (GradientOptimizerParams, {"learning_rate": 0.0}),
    (GradientOptimizerParams, {"betas": (0.9, 1.0)}),
    (GradientOptimizerParams, {"history": 0}),
    (GradientOptimizerParams, {"gradient_tolerance": -1.0}),
    (LeastSquaresParams, {"method": "dogleg"}),
    (LeastSquaresParams, {"jacobian": "numeric"}),
    (LeastSquaresParams, {"damping": 0.0}),
    (LeastSquaresParams, {"damping": 1e9}),
    (LeastSquaresParams, {"damping_increase": 1.0}),
    (LeastSquaresParams, {"accept_threshold": 1.0}),
    (LeastSquaresParams, {"tolerance": -1.0}),
])
def test_bad_params_rejected(params_class, settings):
    with pytest.raises(ValueError):
        params_class(**settings)


def test_make_generic_and_entries():
    assert set(GENERIC_SOLVERS) == {"adam", "lbfgs", "gauss-newton", "lm", "newton"}
    lm = make_generic("lm", max_iterations=7, learning_rate=0.5, method="adam")
    assert isinstance(lm, LeastSquaresSolver) and lm.name == "lm" and lm.params.max_iterations == 7
    adam = make_generic("adam", learning_rate=0.5, damping=1.0)
    assert isinstance(adam, GradientOptimizer) and adam.params.learning_rate == 0.5
    assert dataclasses.replace(adam.params).max_iterations == 500 and lm.params.patience == 20
    with pytest.raises(ValueError, match="unknown generic solver"):
        make_generic("bogus")
    entries = generic_solver_entries(frozenset({"residuals"}))
    assert [entry.name for entry in entries] == ["gauss-newton", "lm"]
    assert entries[1].update_rule == "dx = -(J^T J + lambda D)^-1 J^T r"
    assert isinstance(entries[1].factory(max_iterations=3), LeastSquaresSolver)
