"""The energy: its residuals, its mixture prior, its weights and their files."""
import math

import pytest
import torch

from engine.learn.energy_weights import EnergyWeightsError, save_energy_weights
from engine.problems.pose_from_2d import model
from engine.problems.pose_from_2d.data import DETECTOR_OFFSETS, POSE

from .conftest import instances


def test_untrained_weights_fit_the_declared_shapes_and_orthonormal_bases():
    weights = model.untrained_weights(4)
    assert {name: tuple(value.shape) for name, value in weights.items()} == model.weight_shapes(4)
    basis = weights["basis"]
    torch.testing.assert_close(basis.transpose(1, 2) @ basis, torch.eye(48).expand_as(basis), atol=1e-4, rtol=0)
    assert torch.isclose(weights["mixing"].exp().sum(), torch.tensor(1.0))


@pytest.mark.parametrize("models", [1, 4])
def test_energy_is_the_sum_of_its_squared_residuals(models):
    problem, truth, observation = instances(4, 3)
    weights = {name: value[:models] if value.shape[:1] == (model.MODELS,) else value
               for name, value in problem.weights.items()}
    x = truth + 0.02 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))
    energy = model.energy(x, observation, weights, 5.0)
    residuals = model.residuals(x, observation, weights, 5.0)
    torch.testing.assert_close(residuals.square().sum(1), energy, rtol=1e-5, atol=1e-4)
    assert residuals.shape[1] == 4 * 17 * 2 + models * 48 + (models > 1)


def test_the_mixture_is_the_best_model_as_its_temperature_falls():
    weights = model.untrained_weights(1)
    pose = weights["mean"][2:3] + 0.01
    parts = model._prior_parts(pose, weights)
    weights["log_temperature"] = torch.full((1,), math.log(1e-4))
    cold = model._prior_parts(pose, weights)
    torch.testing.assert_close(cold[3], parts[1].min(1).values, rtol=1e-3, atol=0)
    assert bool((parts[3] >= 0).all())


def test_the_data_term_is_gaussian_near_zero_and_linear_far_out():
    problem, truth, observation = instances(1, 1, outlier_rate=0.0)
    weights = dict(problem.weights, joint_offsets=DETECTOR_OFFSETS)
    clean = model.project(truth, 1, DETECTOR_OFFSETS)
    small = model.data_residuals(truth, clean + 0.1, weights, 5.0).square().sum()
    torch.testing.assert_close(small, torch.tensor(17 * 2 * 0.01 / 2 / 25), rtol=1e-3, atol=0)
    far = model.data_residuals(truth, clean + 1000.0, weights, 5.0).square().sum()
    delta = 5.0 * model.HUBER
    assert far < 17 * 2 * delta * 1000 / 25 < 17 * 2 * 1000**2 / 2 / 25


def test_energy_gradients_reach_every_weight():
    problem, truth, observation = instances(4, 2)
    weights = {name: value.clone().requires_grad_(True) for name, value in problem.weights.items()}
    model.energy(truth + 0.01, observation, weights, 5.0).sum().backward()
    for name, value in weights.items():
        assert value.grad is not None and torch.isfinite(value.grad).all() and value.grad.abs().sum() > 0, name


def test_weights_files_are_read_and_foreign_ones_refused(tmp_path):
    path = tmp_path / "multi.safetensors"
    weights = model.untrained_weights(4)
    save_energy_weights(path, model.PROBLEM, weights, {})
    loaded = model.energy_weights(str(path), 4)
    torch.testing.assert_close(loaded["basis"], weights["basis"])
    with pytest.raises(EnergyWeightsError, match="do not fit this energy"):
        model.energy_weights(str(path), 1)
    with pytest.raises(EnergyWeightsError, match="no such energy weights file.*feedbacklab train pose-from-2d"):
        model.energy_weights(str(tmp_path / "missing.safetensors"), 4)
    save_energy_weights(path, "ik", weights, {})
    with pytest.raises(EnergyWeightsError, match="not 'pose-from-2d'"):
        model.energy_weights(str(path), 4)


def test_the_shipped_weights_load_for_both_rigs():
    for cameras in (1, 4):
        weights = model.energy_weights("trained", cameras)
        assert weights["log_camera_weights"].shape == (cameras,)
        assert not torch.equal(weights["joint_offsets"], torch.zeros(17, 3))  # learned, not the hand-set zeros


def test_pose_slice_of_x():
    x = torch.arange(52.0)[None]
    assert model.pose_joints(x).shape == (1, 17, 3)
    torch.testing.assert_close(model.pose_joints(x)[0, 1:].flatten(), x[0, POSE])
