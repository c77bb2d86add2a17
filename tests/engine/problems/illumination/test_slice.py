"""The illumination problem's energy-slice axes: each axis's coordinate reads back the offsets its move made,
moves are physical (a turn keeps the distance), and the slice's minimum lies at the truth."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.energy_slice import energy_slice
from engine.problems.illumination import SPEC, IlluminationConfig, IlluminationProblem
from engine.problems.illumination.meshes import resolve_lit_mesh
from engine.problems.illumination.slice import SLICE_AXES

LIGHTS = torch.tensor([[0.3, 0.2, 0.9], [-0.5, -0.1, 0.7], [0.0, 0.4, 1.2], [0.1, -0.3, 0.6]])
OFFSETS = {"azimuth": [-60.0, -12.5, 0.0, 7.0, 45.0], "elevation": [-40.0, -10.0, 0.0, 3.5, 35.0],
           "distance": [-0.3, -0.05, 0.0, 0.1, 0.4]}


def test_axes():
    assert tuple(axis.key for axis in SLICE_AXES) == ("azimuth", "elevation", "distance")
    assert [axis.unit for axis in SLICE_AXES] == ["deg", "deg", "m"]
    assert SPEC.slice_axes == SLICE_AXES


@pytest.mark.parametrize("axis", SLICE_AXES, ids=lambda axis: axis.key)
def test_coordinate_reads_back_the_move(axis):
    offsets = torch.tensor(OFFSETS[axis.key])
    for x in LIGHTS:
        path = axis.move(x.expand(len(offsets), 3), offsets)
        assert path.shape == (len(offsets), 3)
        assert np.allclose(axis.coordinate(path.numpy(), x.numpy()), offsets.numpy(), atol=1e-4), x.tolist()
        assert torch.allclose(path[2], x, atol=1e-6)  # offset 0: the light itself


@pytest.mark.parametrize("key", ["azimuth", "elevation"])
def test_turns_keep_the_distance(key):
    axis = SPEC.slice_axis(key)
    offsets = torch.tensor(OFFSETS[key])
    for x in LIGHTS:
        path = axis.move(x.expand(len(offsets), 3), offsets)
        assert torch.allclose(path.norm(dim=1), x.norm().expand(len(offsets)), atol=1e-6)
        if key == "azimuth":  # the turn is about the vertical axis: the x-z projection turns by the offset
            a, b = x[[2, 0]], path[:, [2, 0]]
            turned = torch.atan2(a[0] * b[:, 1] - a[1] * b[:, 0], (b * a).sum(dim=1))
            assert torch.rad2deg(turned).tolist() == pytest.approx(offsets.tolist(), abs=1e-3)


def test_distance_moves_along_the_direction():
    x = LIGHTS[:1].expand(3, 3)
    moved = SPEC.slice_axis("distance").move(x, torch.tensor([-0.2, 0.0, 0.5]))
    assert torch.allclose(torch.nn.functional.normalize(moved, dim=1), torch.nn.functional.normalize(x, dim=1))
    assert moved.norm(dim=1).tolist() == pytest.approx((x.norm(dim=1) + torch.tensor([-0.2, 0.0, 0.5])).tolist())


def test_energy_slice_is_smallest_at_the_truth():
    problem = IlluminationProblem.for_meshes(resolve_lit_mesh("car-1"), config=IlluminationConfig(image_size=32))
    truth = torch.nn.functional.normalize(torch.tensor([[0.3, 0.4, 0.8]]), dim=1)
    observation = problem.forward(truth)
    (first, second), energy = energy_slice(problem, observation, truth[0],
                                           (SPEC.slice_axis("azimuth"), SPEC.slice_axis("elevation")), (30.0, 30.0), 5)
    assert energy.shape == (5, 5) and np.allclose(first, np.linspace(-30, 30, 5))
    assert np.unravel_index(np.argmin(energy), energy.shape) == (2, 2)
    assert energy[2, 0] > energy[2, 2] and energy[0, 2] > energy[2, 2]
