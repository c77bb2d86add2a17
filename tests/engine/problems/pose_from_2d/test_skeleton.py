"""The 17 joints from SMPL's skeleton, their facing and the rig's cameras."""
import math

import torch

from engine.bodies.skeleton import NUM_JOINTS
from engine.problems.ik.data import default_rest_joints
from engine.problems.pose_from_2d import cameras
from engine.problems.pose_from_2d.skeleton import (HEAD, HEAD_TOP, JOINT_NAMES, NUM, PARENTS, canonical,
                                                   facing_yaw, joints_from_smpl, yaw_matrix)


def test_rest_pose_joints_are_smpl_joints_with_a_head_top():
    rest = default_rest_joints()
    joints = joints_from_smpl(torch.zeros(2, NUM_JOINTS, 3), rest)
    assert joints.shape == (2, NUM, 3) and len(PARENTS) == NUM == len(JOINT_NAMES)
    torch.testing.assert_close(joints[0, 0], torch.zeros(3))
    torch.testing.assert_close(joints[0, HEAD] - joints[0, HEAD - 1], torch.tensor(HEAD_TOP))
    assert joints[0, JOINT_NAMES.index("left_wrist"), 0] > 0.5  # T-pose: the left arm along +x


def test_canonical_undoes_any_yaw():
    rest = default_rest_joints()
    poses = torch.zeros(3, NUM_JOINTS, 3)
    poses[:, 4, 0] = 1.0  # a bent knee, so the pose is not symmetric
    joints = joints_from_smpl(poses, rest)
    yaw = torch.tensor([0.3, -2.0, 3.0])
    turned = joints @ yaw_matrix(yaw).transpose(-1, -2)
    torch.testing.assert_close(facing_yaw(turned), yaw)
    torch.testing.assert_close(canonical(turned), joints, atol=1e-6, rtol=0)


def test_bad_poses_are_refused():
    import pytest

    with pytest.raises(ValueError, match=r"poses must have shape \(B, 24, 3\)"):
        joints_from_smpl(torch.zeros(2, 17, 3), default_rest_joints())


def test_rig_cameras_look_at_the_target_and_project_their_roots_exactly():
    rotations, centres = cameras.rig(4)
    torch.testing.assert_close(rotations @ rotations.transpose(1, 2), torch.eye(3).expand(4, 3, 3).double())
    target = torch.tensor([cameras.TARGET], dtype=torch.float64)
    pixels = cameras.weak_perspective(target[:, None].expand(1, 1, 3), target, rotations, centres)
    torch.testing.assert_close(pixels, torch.full((1, 4, 1, 2), 500.0, dtype=torch.float64))
    point = torch.tensor([[[0.3, 1.2, -0.2]]], dtype=torch.float64)
    camera = cameras.to_camera(point, rotations, centres)[0, :, 0]
    u = 500.0 + cameras.IMAGE.focal * camera[:, 0] / -camera[:, 2]
    torch.testing.assert_close(cameras.weak_perspective(point, point[:, 0], rotations, centres)[0, :, 0, 0], u)
    assert math.isclose(cameras.IMAGE.focal, 1150.0, rel_tol=1e-9)


def test_the_rig_has_one_to_four_cameras():
    import pytest

    assert cameras.rig(1)[0].shape == (1, 3, 3)
    with pytest.raises(ValueError, match="1 to 4 cameras"):
        cameras.rig(5)
