import math

import pytest
import torch

from engine.camera import Camera


def test_centre_point_projects_to_image_centre(device):
    camera = Camera.square(128)
    uv, depth = camera.project(torch.tensor([[0.0, 0.0, -2.0]], device=device))
    assert uv.device.type == device.type
    assert torch.allclose(uv, torch.tensor([[64.0, 64.0]], device=device))
    assert depth.item() == pytest.approx(2.0)


def test_axis_convention_x_right_y_up():
    camera = Camera.square(100)
    uv, _ = camera.project(torch.tensor([[0.5, 0.0, -2.0], [0.0, 0.5, -2.0]]))
    assert uv[0, 0] > 50 and uv[0, 1] == pytest.approx(50)  # +x: right
    assert uv[1, 1] < 50 and uv[1, 0] == pytest.approx(50)  # +y: up = smaller row


def test_vertical_fov_reaches_image_border():
    camera = Camera.square(64, fov_y=math.radians(60))
    edge = math.tan(math.radians(30)) * 3.0
    uv, _ = camera.project(torch.tensor([[0.0, edge, -3.0]]))
    assert uv[0, 1].item() == pytest.approx(0.0, abs=1e-4)


def test_batch_shapes_and_ndc():
    camera = Camera(height=48, width=64)
    points = torch.randn(5, 7, 3) - torch.tensor([0.0, 0.0, 4.0])
    uv, depth = camera.project(points)
    assert uv.shape == (5, 7, 2) and depth.shape == (5, 7)
    ndc = camera.pixels_to_ndc(torch.tensor([[0.0, 0.0], [64.0, 48.0]]))
    assert torch.allclose(ndc, torch.tensor([[-1.0, 1.0], [1.0, -1.0]]))


def test_projection_gradient_matches_finite_differences():
    camera = Camera.square(32)
    points = (torch.randn(4, 3, dtype=torch.float64) * 0.3 - torch.tensor([0, 0, 3.0], dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda p: camera.project(p)[0], (points.requires_grad_(),))


@pytest.mark.parametrize("kwargs", [{"height": 0}, {"fov_y": 0.0}, {"fov_y": 4.0}, {"near": 2.0, "far": 1.0}])
def test_bad_camera_rejected(kwargs):
    with pytest.raises(ValueError):
        Camera(**kwargs)


def test_bad_points_shape_rejected():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        Camera().project(torch.zeros(4, 2))
