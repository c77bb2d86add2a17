"""Skinning: the same body as smplx on every vertex or a subset, and its analytic Jacobians against autodiff."""
from __future__ import annotations

import pytest
import torch

from engine.bodies.skinning import Skinning, depth_levels, global_transforms
from engine.rotations import axis_angle_to_matrix, retract_rotation_vectors

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _inputs(batch: int, seed: int = 0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return (0.5 * torch.randn(batch, 24, 3, generator=generator)).to(dtype), \
        torch.randn(batch, 10, generator=generator).to(dtype)


@pytest.mark.parametrize("batch", [1, 3])
def test_matches_smplx_on_every_vertex_and_on_the_landmarks(default_body, batch):
    pose, betas = _inputs(batch)
    expected = default_body(betas=betas, pose=pose)
    joints, vertices = Skinning(default_body)(betas, axis_angle_to_matrix(pose))
    assert joints.shape == (batch, 24, 3) and vertices.shape == (batch, default_body.num_vertices, 3)
    torch.testing.assert_close(joints, expected.joints[:, :24], atol=1e-5, rtol=0)
    torch.testing.assert_close(vertices, expected.vertices, atol=1e-5, rtol=0)
    landmarks = default_body.layer.vertex_joint_selector.extra_joints_idxs
    subset = Skinning(default_body, landmarks)(betas, axis_angle_to_matrix(pose))[1]
    torch.testing.assert_close(subset, expected.joints[:, 24:], atol=1e-5, rtol=0)


def test_analytic_jacobians_match_autodiff(default_body):
    skinning = Skinning(default_body, default_body.layer.vertex_joint_selector.extra_joints_idxs[:11]).double()
    pose, betas = _inputs(2, seed=1, dtype=torch.float64)
    points, rotation_jacobian, beta_jacobian = skinning.linearized(betas, axis_angle_to_matrix(pose))

    def moved(increment: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        rotations = axis_angle_to_matrix(retract_rotation_vectors(pose, increment.reshape(1, 24, 3).expand(2, 24, 3)))
        return torch.cat(skinning(betas + shape, rotations), 1)

    zero_pose, zero_shape = torch.zeros(72, dtype=torch.float64), torch.zeros(10, dtype=torch.float64)
    torch.testing.assert_close(points, moved(zero_pose, zero_shape))
    by_rotation = torch.func.jacfwd(lambda w: moved(w, zero_shape))(zero_pose)
    by_shape = torch.func.jacfwd(lambda b: moved(zero_pose, b.expand(2, 10)))(zero_shape)
    torch.testing.assert_close(rotation_jacobian.flatten(3), by_rotation, atol=1e-10, rtol=0)
    torch.testing.assert_close(beta_jacobian, by_shape, atol=1e-10, rtol=0)


def test_bad_inputs_are_refused(default_body):
    skinning = Skinning(default_body, [0, 1])
    pose, betas = _inputs(2)
    with pytest.raises(ValueError, match="rotations must have shape"):
        skinning(betas, axis_angle_to_matrix(pose)[:, :20])
    with pytest.raises(ValueError, match="betas must have shape"):
        skinning(betas[:, :5], axis_angle_to_matrix(pose))
    with pytest.raises(ValueError, match="vertex ids"):
        Skinning(default_body, [default_body.num_vertices])


def test_a_cyclic_tree_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        depth_levels((-1, 2, 1))


@pytest.mark.parametrize("device", DEVICES)
def test_runs_where_its_inputs_are(default_body, device):
    pose, betas = _inputs(2)
    skinning = Skinning(default_body, [0, 5, 9]).to(device)
    joints, vertices = skinning(betas.to(device), axis_angle_to_matrix(pose).to(device))
    assert joints.device.type == device and vertices.shape == (2, 3, 3)
    rotations, positions = global_transforms(axis_angle_to_matrix(pose).to(device), joints, skinning.parents)
    assert rotations.shape == (2, 24, 3, 3) and positions.device.type == device
