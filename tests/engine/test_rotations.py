import math

import pytest
import torch

from engine.rotations import (
    axis_angle_to_matrix,
    euler_to_matrix,
    matrix_to_axis_angle,
    normalize_quaternion,
    quaternion_conjugate,
    quaternion_from_axis_angle,
    quaternion_from_rotation_vector,
    quaternion_multiply,
    quaternion_to_matrix,
    quaternion_to_rotation_vector,
    random_axis_angle_quaternions,
    rotation_angle_between,
)


def test_identity_and_quarter_turn(device):
    q = torch.tensor([[1.0, 0, 0, 0], [math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)]], device=device)
    matrices = quaternion_to_matrix(q)
    assert matrices.device.type == device.type
    assert torch.allclose(matrices[0], torch.eye(3, device=device))
    rotated = matrices[1] @ torch.tensor([1.0, 0, 0], device=device)
    assert torch.allclose(rotated, torch.tensor([0.0, 1, 0], device=device), atol=1e-6)


def test_matrices_are_rotations_for_unnormalised_quaternions():
    matrices = quaternion_to_matrix(torch.randn(10, 4) * 3)
    assert matrices.shape == (10, 3, 3)
    identity = torch.eye(3).expand(10, 3, 3)
    assert torch.allclose(matrices @ matrices.transpose(1, 2), identity, atol=1e-5)
    assert torch.allclose(torch.linalg.det(matrices), torch.ones(10), atol=1e-5)


def test_angle_between_is_sign_invariant():
    q = quaternion_from_axis_angle(torch.tensor([[0.0, 1, 0]]), torch.tensor([0.5]))
    assert rotation_angle_between(q, torch.tensor([[1.0, 0, 0, 0]])).item() == pytest.approx(0.5, abs=1e-3)
    assert rotation_angle_between(q, -q).item() == pytest.approx(0.0, abs=2e-3)


def test_random_quaternions_respect_range():
    generator = torch.Generator().manual_seed(0)
    q = random_axis_angle_quaternions(500, 40, 45, generator)
    angles = torch.rad2deg(rotation_angle_between(q, torch.tensor([[1.0, 0, 0, 0]])))
    assert q.shape == (500, 4) and torch.allclose(q.norm(dim=1), torch.ones(500), atol=1e-5)
    assert angles.min() >= 40 - 1e-2 and angles.max() <= 45 + 1e-2


def test_rotation_gradient_matches_finite_differences():
    q = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(quaternion_to_matrix, (q,))


def test_bad_shapes_rejected():
    with pytest.raises(ValueError, match="w, x, y, z"):
        normalize_quaternion(torch.zeros(3, 3))
    with pytest.raises(ValueError):
        quaternion_from_axis_angle(torch.zeros(3, 4), torch.zeros(3))


def test_rotation_vector_round_trip_and_products():
    vectors = torch.tensor([[0.3, -0.2, 0.5], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    q = quaternion_from_rotation_vector(vectors)
    assert torch.allclose(quaternion_to_rotation_vector(q), vectors, atol=1e-5)
    assert torch.allclose(quaternion_to_rotation_vector(-q), vectors, atol=1e-5)  # q and -q: one rotation
    a, b = q[0], quaternion_from_rotation_vector(torch.tensor([0.1, 0.7, -0.4]))
    product = quaternion_to_matrix(quaternion_multiply(a, b))
    assert torch.allclose(product, quaternion_to_matrix(a) @ quaternion_to_matrix(b), atol=1e-6)
    identity = quaternion_multiply(a, quaternion_conjugate(a))
    assert torch.allclose(identity, torch.tensor([1.0, 0, 0, 0]), atol=1e-6)
    with pytest.raises(ValueError, match="w, x, y, z"):
        quaternion_multiply(torch.zeros(3), a)


class TestAxisAngleAndEuler:
    def test_round_trip(self):
        axis_angle = torch.randn(256, 3, generator=torch.Generator().manual_seed(0))
        axis_angle = axis_angle / axis_angle.norm(dim=-1, keepdim=True) * torch.linspace(0.0, 3.1, 256)[:, None]
        matrices = axis_angle_to_matrix(axis_angle)
        torch.testing.assert_close(matrices @ matrices.transpose(-1, -2), torch.eye(3).expand(256, 3, 3), atol=1e-5,
                                   rtol=0)
        torch.testing.assert_close(matrix_to_axis_angle(matrices), axis_angle, atol=1e-4, rtol=0)

    def test_euler_order(self):
        angles = torch.tensor([0.3, -0.5, 0.9])
        rx, ry, rz = (axis_angle_to_matrix(torch.eye(3)[i] * angles[k]) for i, k in ((0, 1), (1, 2), (2, 0)))
        torch.testing.assert_close(euler_to_matrix(angles, "ZXY"), rz @ rx @ ry)
        with pytest.raises(ValueError, match="permutation of XYZ"):
            euler_to_matrix(angles, "XXY")


def test_right_jacobian_inverse_is_the_derivative_of_the_retraction():
    from engine.rotations import retract_rotation_vectors, right_jacobian_inverse

    phi = torch.tensor([[0.0, 0.0, 0.0], [1e-4, -2e-4, 0.0], [0.4, -1.1, 0.7], [2.0, 1.5, -0.5]], dtype=torch.float64)
    expected = torch.func.jacfwd(lambda w: retract_rotation_vectors(phi, w.expand(len(phi), 3)))(
        torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(right_jacobian_inverse(phi), expected, atol=1e-9, rtol=0)


def test_6d_rotations_round_trip_and_are_differentiable():
    from engine.rotations import rotation_from_6d, rotation_to_6d

    rotations = rotation_from_6d(torch.randn(5, 24, 6))
    torch.testing.assert_close(rotations @ rotations.transpose(-1, -2), torch.eye(3).expand(5, 24, 3, 3),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(rotation_from_6d(rotation_to_6d(rotations)), rotations, atol=1e-5, rtol=0)
    sixd = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rotation_from_6d, (sixd,))


def test_axis_angle_to_matrix_has_its_gradient_at_zero():
    """d R(v) / d v at v = 0 is the skew basis ([e_i]_x), not zero: a joint at rest must still get a gradient."""
    jacobian = torch.autograd.functional.jacobian(axis_angle_to_matrix, torch.zeros(3, dtype=torch.float64))
    for i in range(3):
        skew = torch.linalg.cross(torch.eye(3, dtype=torch.float64)[i].expand(3, 3), torch.eye(3, dtype=torch.float64),
                                  dim=-1).T
        torch.testing.assert_close(jacobian[..., i], skew)
