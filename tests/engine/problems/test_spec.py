"""Parts of the contract that are not a problem's: parameter groups, the estimate's dimension, hooks, viewpoints."""
import math

import numpy as np
import pytest

from engine.problems.registry import get_problem
from engine.problems.spec import CAMERA_VIEW, ParameterGroup, Viewpoint, loaded_observation


def test_an_image_group_has_no_labels_and_every_other_one_has_some():
    ParameterGroup("image", (), "", kind="image")
    with pytest.raises(ValueError, match="an image group has no labels"):
        ParameterGroup("image", ("a",), "", kind="image")
    with pytest.raises(ValueError, match="an image group has no labels"):
        ParameterGroup("pose", (), "m")


def test_the_estimate_of_an_image_problem_is_the_size_of_an_observation_item():
    assert get_problem("jpeg").x_dimension((3, 20, 30)) == 1800
    assert get_problem("tracker-fusion").x_dimension((72, 5)) == 4


def test_only_problems_holding_an_observation_offer_one():
    jpeg = get_problem("jpeg")
    assert loaded_observation(jpeg.make(jpeg.config(scene_size=16), {}, "cpu", 1)) is None
    fusion = get_problem("tracker-fusion")
    assert loaded_observation(fusion.make(fusion.config(), {}, "cpu", 1)) is None


def test_the_camera_view_is_the_problems_camera():
    center = np.array([0.0, 0.0, -2.5])
    assert np.allclose(CAMERA_VIEW.camera_pose(center, 2.5), np.eye(4))
    moved = Viewpoint().camera_pose(np.array([1.0, 2.0, 3.0]), 4.0)
    assert np.allclose(moved[:3, :3], np.eye(3)) and np.allclose(moved[:3, 3], [1.0, 2.0, 7.0])


@pytest.mark.parametrize("azimuth, elevation", [(0.7, 0.3), (-2.0, -1.2), (math.pi, 0.0), (0.3, math.pi / 2)])
def test_an_orbit_looks_at_the_centre_from_its_distance(azimuth, elevation):
    center = np.array([0.2, -0.1, -3.0])
    pose = Viewpoint(azimuth, elevation).camera_pose(center, 2.0)
    rotation, position = pose[:3, :3], pose[:3, 3]
    assert np.allclose(rotation @ rotation.T, np.eye(3)) and np.linalg.det(rotation) == pytest.approx(1.0)
    assert np.linalg.norm(position - center) == pytest.approx(2.0)
    assert np.allclose(-rotation[:, 2], (center - position) / 2.0)  # it looks down its -z axis at the centre
    assert np.sign(position[1] - center[1]) == np.sign(round(elevation, 6))  # above the centre when it rises
    assert abs(rotation[1, 0]) < 1e-9  # no roll: its x axis stays horizontal


def test_azimuth_turns_to_the_right_of_the_object():
    position = Viewpoint(0.5, 0.0).camera_pose(np.zeros(3), 1.0)[:3, 3]
    assert position[0] > 0 and position[1] == pytest.approx(0.0)


def test_a_viewpoint_needs_finite_angles():
    with pytest.raises(ValueError, match="viewpoint angles must be finite"):
        Viewpoint(float("nan"), 0.0)
    with pytest.raises(ValueError, match="viewpoint angles must be finite"):
        Viewpoint(0.0, float("inf"))
