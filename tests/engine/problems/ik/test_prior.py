import math

import numpy as np
import pytest
import torch

from engine.bodies.poses import sample_poses
from engine.problems.ik.prior import DEFAULT_PRIOR, REGULARISATION, EulerPrior, matrix_to_euler_xyz
from engine.rotations import axis_angle_to_matrix, euler_to_matrix


def test_euler_round_trip():
    angles = torch.rand(200, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    angles = angles * torch.tensor([math.pi, math.pi / 2, math.pi], dtype=torch.float64) * 0.999
    torch.testing.assert_close(matrix_to_euler_xyz(euler_to_matrix(angles, "XYZ")), angles)
    r = axis_angle_to_matrix(torch.randn(50, 3, dtype=torch.float64))
    torch.testing.assert_close(euler_to_matrix(matrix_to_euler_xyz(r), "XYZ"), r)


def test_euler_gradcheck():
    r = euler_to_matrix(torch.tensor([[0.3, -0.4, 1.2], [2.0, 0.1, -2.5]], dtype=torch.float64), "XYZ")
    assert torch.autograd.gradcheck(matrix_to_euler_xyz, (r.requires_grad_(),))


@pytest.fixture(scope="module")
def fitted():
    return EulerPrior.fit(sample_poses(300, seed=9), {"data": "sampler seed 9"})


def test_fit_whitens_its_data(fitted):
    poses = sample_poses(300, seed=9)
    residual = fitted.whitened(poses.reshape(300, -1)).reshape(300, 24, 3)
    moving = residual[:, 1:]  # the root never moves: its residual is zero
    torch.testing.assert_close(moving.mean(0), torch.zeros_like(moving[0]), atol=1e-4, rtol=0)
    assert 0.8 < float(moving.std(0).min()) and float(moving.std(0).max()) < 1.0001
    assert residual[:, 0].abs().max() < 1e-4
    torch.testing.assert_close(fitted.covariance[0], REGULARISATION * torch.eye(3, dtype=torch.float64))
    assert fitted.metadata == {"data": "sampler seed 9", "count": 300}


def test_whitened_is_differentiable(device, fitted):
    x = sample_poses(2, seed=1).reshape(2, -1).to(device).requires_grad_()
    energy = 0.5 * fitted.whitened(x).square().sum()
    energy.backward()
    assert energy.device.type == device.type and torch.isfinite(x.grad).all()


def test_save_load_round_trip(tmp_path, fitted):
    path = tmp_path / "prior.npz"
    fitted.save(path)
    loaded = EulerPrior.load(path)
    torch.testing.assert_close(loaded.mean, fitted.mean)
    torch.testing.assert_close(loaded.inverse_cholesky, fitted.inverse_cholesky)
    assert loaded.metadata == fitted.metadata


def test_shipped_prior_loads():
    prior = EulerPrior.load(DEFAULT_PRIOR)
    assert prior.metadata["count"] > 0 and "data" in prior.metadata


@pytest.mark.parametrize("content, problem", [
    (None, "no such file"),
    (b"not an archive", "not an .npz"),
    ({"mean": np.zeros((24, 3))}, "format"),
    ({"format": np.array("feedbacklab-ik-euler-prior-1"), "mean": np.zeros((24, 3))}, "inverse_cholesky"),
])
def test_bad_files(tmp_path, content, problem):
    path = tmp_path / "prior.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    with pytest.raises(ValueError, match=problem) as caught:
        EulerPrior.load(path)
    message = str(caught.value)
    assert "prior.npz" in message and "fit_ik_prior.py" in message and "\n" not in message


def test_a_failed_save_keeps_the_prior_that_was_there(tmp_path, fitted, full_disk):
    path = tmp_path / "prior.npz"
    full_disk(path, lambda: fitted.save(path), np, "savez")
