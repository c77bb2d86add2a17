"""The body-keypoints problem: the simulated detector, the energy's residuals and analytic Jacobian, the metrics,
ground truths, and bad estimates."""
from __future__ import annotations

import pytest
import torch

from engine.problems.body_keypoints.problem import (
    KEYPOINT_NAMES, NUM_KEYPOINTS, X_DIM, BodyKeypointsConfig, make_problem,
)
from engine.solvers.generic import linearize

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _instances(batch: int, seed: int = 0, **config):
    problem = make_problem(BodyKeypointsConfig(**config), batch)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed))
    return problem, truth, problem.forward(truth)


def test_the_detector_reports_every_keypoint_with_its_confidence():
    problem, truth, observation = _instances(64, drop_rate=0.2, outlier_rate=0.0, noise_px=0.0)
    assert observation.shape == (64, NUM_KEYPOINTS, 3) and len(KEYPOINT_NAMES) == NUM_KEYPOINTS == 35
    confidence = observation[..., 2]
    dropped = confidence == 0
    assert 0.1 < float(dropped.float().mean()) < 0.3
    assert bool((observation[dropped][:, :2] == 0).all())
    torch.testing.assert_close(observation[~dropped][:, :2], problem.projection(truth)[~dropped], atol=1e-6, rtol=0)
    assert float(observation[..., :2].abs().max()) < 1.5  # framed in the crop


def test_ground_truths_are_deterministic_per_seed_and_vary():
    a = _instances(4, seed=3)[1]
    b = _instances(4, seed=3)[1]
    c = _instances(4, seed=4)[1]
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c) and a.shape == (4, X_DIM)


@pytest.mark.parametrize("device", DEVICES)
def test_residuals_and_analytic_jacobian_match_the_energy_and_autodiff(device):
    problem, truth, observation = _instances(3, seed=1)
    problem = make_problem(BodyKeypointsConfig(), 3, device)
    x = (truth + 0.05 * torch.randn_like(truth)).to(device)
    observation = observation.to(device)
    prediction, residuals, jacobian = problem.linearize(x, observation)
    torch.testing.assert_close(residuals.square().sum(1), problem.energy(prediction, observation, x))
    _, expected_residuals, expected = linearize(problem, x, observation, analytic=False)
    torch.testing.assert_close(residuals, expected_residuals, atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(jacobian, expected, atol=2e-3, rtol=1e-3)
    assert jacobian.shape == (3, 150, X_DIM) and jacobian.device.type == device


def test_the_energy_is_differentiable():
    problem, truth, observation = _instances(2, seed=5)
    x = (truth + 0.05 * torch.randn_like(truth)).double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: problem.energy(None, observation.double(), v), (x,), atol=1e-4,
                                    rtol=1e-3)


def test_metrics_are_zero_at_the_truth_and_grow_away_from_it():
    problem, truth, observation = _instances(4, seed=2, noise_px=0.0, outlier_rate=0.0)
    exact = problem.metrics(truth, observation, observation, truth)
    for key in ("mpjpe_mm", "pa_mpjpe_mm", "v2v_mm", "reprojection_px"):
        assert float(exact[key].max()) < 1e-2, key
    off = problem.metrics(problem.initial_estimate(), observation, observation, truth)
    assert float(off["mpjpe_mm"].min()) > 10 and float(off["reprojection_px"].min()) > 1


def test_bad_estimates_and_configs_are_refused():
    problem = make_problem(BodyKeypointsConfig(), 1)
    with pytest.raises(ValueError, match=r"\(B, 85\)"):
        problem.forward(torch.zeros(1, 82))
    with pytest.raises(ValueError, match="--split"):
        BodyKeypointsConfig(split="holdout")
    with pytest.raises(ValueError, match="--noise-px"):
        BodyKeypointsConfig(noise_px=-1.0)
