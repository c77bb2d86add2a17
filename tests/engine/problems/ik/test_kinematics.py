import math

import pytest
import torch

from engine.bodies.poses import sample_poses
from engine.bodies.skeleton import NUM_JOINTS, PARENTS
from engine.problems.ik import kinematics
from engine.problems.ik.kinematics import (
    DESCENDANTS,
    ORDER,
    forward_kinematics,
    geodesic_angle,
    joint_jacobian,
    retract,
    rotations_from_x,
)
from engine.rotations import axis_angle_to_matrix


def random_x(batch, seed=0, dtype=torch.float32):
    return sample_poses(batch, seed=seed).reshape(batch, -1).to(dtype)


def test_order_and_descendants():
    assert sorted(ORDER) == list(range(NUM_JOINTS))
    assert all(ORDER.index(PARENTS[j]) < ORDER.index(j) for j in range(1, NUM_JOINTS))
    assert DESCENDANTS[0].sum() == NUM_JOINTS - 1 and not DESCENDANTS[:, 0].any()
    assert not DESCENDANTS[22].any()  # left_hand is an end joint


@pytest.mark.parametrize("batch", [1, 3])
def test_forward_kinematics_matches_the_body_model(default_body, rest_joints, batch):
    poses = sample_poses(batch, seed=4)
    poses[:, 0] = torch.randn(batch, 3, generator=torch.Generator().manual_seed(1))  # a free root rotation too
    joints = default_body(pose=poses).joints[:, :NUM_JOINTS].detach()
    expected = joints - joints[:, :1]
    actual = forward_kinematics(rotations_from_x(poses.reshape(batch, -1)), rest_joints + 0.3)
    assert actual.shape == (batch, NUM_JOINTS, 3)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)


def test_batched_rest_joints(rest_joints):
    x = random_x(3)
    rest = torch.stack([rest_joints, rest_joints * 1.1, rest_joints * 0.9])
    joints = forward_kinematics(rotations_from_x(x), rest)
    for b in range(3):
        torch.testing.assert_close(joints[b], forward_kinematics(rotations_from_x(x[b : b + 1]), rest[b])[0])
    with pytest.raises(ValueError, match="batch size 3"):
        forward_kinematics(rotations_from_x(x[:2]), rest)


def test_parametrisation_on_device(device, rest_joints):
    x = random_x(3).to(device).requires_grad_()
    joints = forward_kinematics(rotations_from_x(retract(x, torch.zeros_like(x))), rest_joints.to(device))
    assert joints.device.type == device.type
    joints.square().sum().backward()
    assert torch.isfinite(x.grad).all()


def test_rest_pose_gives_the_rest_skeleton(rest_joints):
    joints = forward_kinematics(rotations_from_x(torch.zeros(1, 72)), rest_joints)
    torch.testing.assert_close(joints[0], rest_joints - rest_joints[0])


def test_gradcheck_forward_kinematics(rest_joints):
    x = random_x(2, dtype=torch.float64).requires_grad_()
    rest = rest_joints.double()
    assert torch.autograd.gradcheck(lambda v: forward_kinematics(rotations_from_x(v), rest), (x,))


def test_gradcheck_retract():
    x = random_x(2, seed=2, dtype=torch.float64)
    x[0, :3] = 0.0  # exactly zero angle: the series branch
    x = x.requires_grad_()
    dx = (0.1 * torch.randn(2, 72, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(retract, (x, dx))
    zero = torch.zeros(1, 72, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda d: retract(zero, d), (zero.clone().requires_grad_(),))


def test_retract_of_zero_is_identity():
    x = random_x(3)
    x[0, :3] = torch.tensor([0.0, 0.0, 3.1])  # near pi
    torch.testing.assert_close(retract(x, torch.zeros_like(x)), x, atol=1e-6, rtol=0)


def test_retract_multiplies_on_the_right():
    x, dx = random_x(2, seed=5).double(), random_x(2, seed=6).double() * 0.5
    expected = rotations_from_x(x) @ rotations_from_x(dx)
    torch.testing.assert_close(rotations_from_x(retract(x, dx)), expected)
    torch.testing.assert_close(rotations_from_x(x), axis_angle_to_matrix(x.reshape(2, 24, 3)))


def test_joint_jacobian_matches_autograd(rest_joints):
    x = random_x(2, seed=7, dtype=torch.float64)
    rest = rest_joints.double()
    analytic = joint_jacobian(x, rest)
    assert analytic.shape == (2, 72, 72)
    for b in range(2):
        def joints(dx, b=b):
            return forward_kinematics(rotations_from_x(retract(x[b : b + 1], dx[None])), rest).flatten()
        numeric = torch.autograd.functional.jacobian(joints, torch.zeros(72, dtype=torch.float64))
        torch.testing.assert_close(analytic[b], numeric, atol=1e-9, rtol=1e-7)


def test_geodesic_angle():
    r = rotations_from_x(random_x(2, seed=3))
    torch.testing.assert_close(geodesic_angle(r, r), torch.zeros(2, NUM_JOINTS), atol=1e-5, rtol=0)
    axis = torch.nn.functional.normalize(torch.randn(5, 3, dtype=torch.float64), dim=-1)
    angles = torch.tensor([0.0, 0.3, 1.0, 2.5, math.pi], dtype=torch.float64)
    base = axis_angle_to_matrix(torch.randn(5, 3, dtype=torch.float64))
    turned = axis_angle_to_matrix(axis * angles[:, None]) @ base
    torch.testing.assert_close(geodesic_angle(turned, base), angles, atol=1e-7, rtol=0)
    r1 = base.clone().requires_grad_()
    geodesic_angle(r1, turned.detach()).sum().backward()
    assert torch.isfinite(r1.grad).all()


def test_x_from_rotations_inverts_rotations_from_x():
    x = (0.8 * torch.randn(4, 72, generator=torch.Generator().manual_seed(0))).clamp(-1.5, 1.5)
    rotations = kinematics.rotations_from_x(x)
    assert torch.allclose(kinematics.rotations_from_x(kinematics.x_from_rotations(rotations)), rotations, atol=1e-5)
    with pytest.raises(ValueError, match="rotations must have shape"):
        kinematics.x_from_rotations(torch.eye(3).expand(2, 23, 3, 3))
