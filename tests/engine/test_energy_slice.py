from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.energy_slice import SLICE_AXES, energy_slice, slice_coordinates, slice_poses
from engine.problems.pose6d import Pose6DConfig, Pose6DProblem, parse_pose
from engine.procedural import default_mesh


@pytest.fixture
def problem(device):
    return Pose6DProblem.for_meshes(default_mesh(), 1, Pose6DConfig(image_size=64), device)


def test_minimum_at_the_truth(problem):
    truth = parse_pose("0.96,0.2,0.1,0.15,0.05,-0.03,0.1").to(problem.device)
    observation = problem.render(truth)
    (first, second), energy = energy_slice(problem, observation, truth[0], ("ry", "tz"), (30.0, 0.3), 7)
    assert energy.shape == (7, 7) and np.allclose(first, np.linspace(-30, 30, 7))
    assert np.allclose(second, np.linspace(-0.3, 0.3, 7))
    assert energy[3, 3] == pytest.approx(0.0, abs=1e-6) and (energy >= energy[3, 3]).all()
    assert energy[3, 0] > 0 and energy[0, 3] > 0  # moving along either axis costs


def test_path_coordinates_invert_the_grid():
    center = parse_pose("0.9,0.3,-0.2,0.1,0.1,0.0,-0.2")[0]
    offsets = torch.tensor([[10.0, -0.05], [-25.0, 0.2], [0.0, 0.0]])
    for axes in (("rx", "ty"), ("rz", "tx")):
        poses = slice_poses(center, axes, offsets)
        assert np.allclose(slice_coordinates(poses.numpy(), center.numpy(), axes), offsets.numpy(), atol=1e-4)
    rotations = torch.tensor([[10.0, -20.0]])
    poses = slice_poses(center, ("rx", "rz"), rotations)
    assert np.allclose(slice_coordinates(poses.numpy(), center.numpy(), ("rx", "rz")), rotations, atol=1e-3)


@pytest.mark.parametrize("axes", [("rx", "rx"), ("rx",), ("qx", "ty")])
def test_bad_axes(problem, axes):
    with pytest.raises(ValueError, match="two different names"):
        energy_slice(problem, torch.zeros(1, 64, 64), torch.eye(7)[0], axes, (1.0, 1.0))
    with pytest.raises(ValueError, match="two different names"):
        slice_coordinates(np.zeros((1, 7)), np.eye(7)[0], axes)


def test_bad_resolution_and_span(problem):
    with pytest.raises(ValueError, match="resolution"):
        energy_slice(problem, torch.zeros(1, 64, 64), torch.eye(7)[0], ("rx", "ry"), (1.0, 1.0), resolution=2)
    with pytest.raises(ValueError, match="span"):
        energy_slice(problem, torch.zeros(1, 64, 64), torch.eye(7)[0], ("rx", "ry"), (0.0, 1.0))


def test_axes_names():
    assert SLICE_AXES == ("rx", "ry", "rz", "tx", "ty", "tz")
