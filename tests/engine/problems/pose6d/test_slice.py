from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.energy_slice import energy_slice, slice_coordinates, slice_points
from engine.problems.pose6d import SPEC, Pose6DConfig, Pose6DProblem, parse_pose
from engine.procedural import default_mesh


def axes(*keys):
    return tuple(SPEC.slice_axis(key) for key in keys)


@pytest.fixture
def problem(device):
    return Pose6DProblem.for_meshes(default_mesh(), 1, Pose6DConfig(image_size=64), device)


def test_minimum_at_the_truth(problem):
    truth = parse_pose("0.96,0.2,0.1,0.15,0.05,-0.03,0.1").to(problem.device)
    observation = problem.forward(truth)
    (first, second), energy = energy_slice(problem, observation, truth[0], axes("ry", "tz"), (30.0, 0.3), 7)
    assert energy.shape == (7, 7) and np.allclose(first, np.linspace(-30, 30, 7))
    assert np.allclose(second, np.linspace(-0.3, 0.3, 7))
    assert energy[3, 3] == pytest.approx(0.0, abs=1e-6) and (energy >= energy[3, 3]).all()
    assert energy[3, 0] > 0 and energy[0, 3] > 0  # moving along either axis costs


def test_path_coordinates_invert_the_grid():
    center = parse_pose("0.9,0.3,-0.2,0.1,0.1,0.0,-0.2")[0]
    offsets = torch.tensor([[10.0, -0.05], [-25.0, 0.2], [0.0, 0.0]])
    for keys in (("rx", "ty"), ("rz", "tx")):
        poses = slice_points(center, axes(*keys), offsets)
        assert np.allclose(slice_coordinates(poses.numpy(), center.numpy(), axes(*keys)), offsets.numpy(), atol=1e-4)
    rotations = torch.tensor([[10.0, -20.0]])
    poses = slice_points(center, axes("rx", "rz"), rotations)
    # Two rotation axes compose one rotation after the other; read back as one rotation vector they differ
    # by the rotations' non-commutativity (under 0.2 degrees here).
    assert np.allclose(slice_coordinates(poses.numpy(), center.numpy(), axes("rx", "rz")), rotations, atol=0.2)


def test_bad_axes(problem):
    with pytest.raises(ValueError, match="two different axes"):
        energy_slice(problem, torch.zeros(1, 64, 64), torch.eye(7)[0], axes("rx", "rx"), (1.0, 1.0))
    with pytest.raises(ValueError, match="pose6d has no slice axis 'qx'; choose from rx, ry"):
        SPEC.slice_axis("qx")


def test_bad_resolution_and_span(problem):
    with pytest.raises(ValueError, match="resolution"):
        energy_slice(problem, torch.zeros(1, 64, 64), torch.eye(7)[0], axes("rx", "ry"), (1.0, 1.0), resolution=2)
    with pytest.raises(ValueError, match="span"):
        energy_slice(problem, torch.zeros(1, 64, 64), torch.eye(7)[0], axes("rx", "ry"), (0.0, 1.0))


def test_axes_names():
    assert tuple(axis.key for axis in SPEC.slice_axes) == ("rx", "ry", "rz", "tx", "ty", "tz")
