import numpy as np
import pytest
import torch

from engine.bodies.poses import pose_library, sample_poses
from engine.problems.ik.kinematics import forward_kinematics, rotations_from_x
from engine.problems.ik.pictures import RAMP_RGB, error_colour, error_legend, skeleton_views


def joints(poses, rest_joints):
    return forward_kinematics(rotations_from_x(poses.reshape(len(poses), -1)), rest_joints)


def test_error_colour_ramp():
    colours = error_colour(torch.tensor([0.0, 0.025, 0.05, 0.1, 0.5]))
    assert colours.dtype == np.uint8 and colours.shape == (5, 3)
    assert [tuple(c) for c in colours[[0, 2, 3]]] == list(RAMP_RGB)
    assert tuple(colours[4]) == RAMP_RGB[-1]  # clipped beyond 10 cm
    assert [rgb for _, rgb in error_legend()] == list(RAMP_RGB)
    assert [label for label, _ in error_legend()][0] == "0 cm"


@pytest.mark.parametrize("size", [(512, 256), (300, 200)])
def test_skeleton_views_have_a_fixed_size(rest_joints, size):
    for pose in (pose_library()["squat"], sample_poses(1, seed=3)[0]):
        target = joints(pose[None], rest_joints)[0]
        image = skeleton_views(target, target * 1.5, size=size)
        assert image.shape == (size[1], size[0], 3) and image.dtype == np.uint8


def test_colouring_follows_the_error(rest_joints):
    pose = pose_library()["stride"][None]
    target = joints(pose, rest_joints)[0]
    exact = skeleton_views(target, target)
    off = skeleton_views(target, joints(pose + 0.2, rest_joints)[0])
    assert not np.array_equal(exact, off)
    red, green = np.array(RAMP_RGB[-1]), np.array(RAMP_RGB[0])

    def near(image, rgb):
        return int((np.abs(image[:-20].astype(int) - rgb).sum(-1) < 30).sum())  # above the legend
    assert near(exact, green) > 50 and near(exact, red) == 0
    assert near(off, red) > 50


def test_bad_shapes():
    with pytest.raises(ValueError, match="target must have shape"):
        skeleton_views(np.zeros((23, 3)), np.zeros((24, 3)))


def test_body_views_pose_the_default_body():
    from engine.bodies.poses import load_pose
    from engine.problems.ik.pictures import BACKGROUND as PAPER, body_views

    rest = body_views(torch.zeros(72), size=(120, 100))
    squat = body_views(load_pose("squat").reshape(-1), size=(120, 100))
    assert rest.shape == squat.shape == (100, 120, 3) and rest.dtype == np.uint8
    covered = (rest != np.array(PAPER, np.uint8)).any(-1)
    assert 0.05 < covered.mean() < 0.5 and covered[:, :60].any() and covered[:, 60:].any()  # front and side
    assert (rest != squat).any(-1).mean() > 0.02
