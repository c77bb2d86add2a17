import pytest
import torch

from engine.bodies.render import render_bodies
from engine.camera import Camera


pytestmark = pytest.mark.usefixtures("gl")


class TestRenderBodies:
    def test_shaded_front_view(self, default_body):
        vertices = default_body(betas=torch.zeros(2, 10)).vertices.detach()
        images = render_bodies(vertices, default_body.faces, Camera.square(64))
        assert images.shape == (2, 64, 64, 3) and images.dtype == torch.uint8
        body = (images[0] < 250).any(dim=-1)
        assert 0.05 < body.float().mean() < 0.6  # a body on a white background
        assert body[32, 32]  # centred
        shades = images[0][body].float().mean(dim=-1)
        assert shades.std() > 5  # shaded, not a flat silhouette

    def test_markers(self, default_body):
        out = default_body()
        vertices, joints = out.vertices.detach(), out.joints.detach()[:, :24]
        plain = render_bodies(vertices, default_body.faces, Camera.square(64))
        marked = render_bodies(vertices, default_body.faces, Camera.square(64), markers=joints, marker_radius=0.04)
        changed = (marked != plain).any(dim=-1)
        assert changed.sum() > 20 and (marked[changed][:, 0].float() - marked[changed][:, 1].float()).mean() > 50
        with pytest.raises(ValueError, match="markers must have shape"):
            render_bodies(vertices, default_body.faces, markers=joints[0])

    def test_device(self, default_body, device):
        vertices = default_body().vertices.detach().to(device)
        assert render_bodies(vertices, default_body.faces.to(device), Camera.square(32)).device.type == device.type

    @pytest.mark.parametrize("vertices, faces, message", [
        (torch.zeros(5, 3), torch.zeros(1, 3, dtype=torch.long), "vertices must have shape"),
        (torch.zeros(1, 5, 3), torch.zeros(3, dtype=torch.long), "faces must have shape"),
        (torch.full((1, 3, 3), float("nan")), torch.tensor([[0, 1, 2]]), "NaN"),
    ])
    def test_bad_input(self, vertices, faces, message):
        with pytest.raises(ValueError, match=message):
            render_bodies(vertices, faces)
