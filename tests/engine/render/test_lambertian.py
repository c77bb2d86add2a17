"""The NMR-style Lambertian renderer: the visible surface of a fixed mesh, its shading for directional and point
lights, gradients with respect to the light (gradcheck in float64), and bad input."""
from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import pytest
import torch

from engine.camera import Camera
from engine.render.lambertian import DIFFUSE_SHARE, GAMMA, Surface, shade, visible_surface
from engine.render.pyrender_shaded import Lighting

SIZE = 32
CAMERA = Camera.square(SIZE)


def triangle(z: float = -2.0, tilt: float = 0.0, device: torch.device | str = "cpu"):
    """One counter-clockwise (front-facing) triangle around the optical axis, tilted about the x axis: its depth
    grows by `tilt` per metre of y."""
    vertices = torch.tensor([[[-0.6, -0.5, z], [0.6, -0.5, z], [0.0, 0.6, z]]], device=device)
    vertices[..., 2] -= tilt * vertices[..., 1]
    return vertices, torch.tensor([[[0, 1, 2]]], device=device)


def pixel_centres(device: torch.device | str = "cpu") -> torch.Tensor:
    rows, cols = torch.meshgrid(torch.arange(SIZE, device=device) + 0.5, torch.arange(SIZE, device=device) + 0.5,
                                indexing="ij")
    return torch.stack([cols, rows], dim=-1)


def test_visible_surface_of_one_triangle(device):
    vertices, faces = triangle(tilt=0.5, device=device)
    surface = visible_surface(vertices, faces, CAMERA)
    assert surface.mask.shape == (1, SIZE, SIZE) and surface.mask.dtype == torch.bool
    assert surface.normal.shape == (1, SIZE, SIZE, 3) and surface.position.shape == (1, SIZE, SIZE, 3)
    assert surface.mask.device.type == device.type
    mask = surface.mask[0]
    assert 0.1 < mask.float().mean() < 0.6
    assert mask[SIZE // 2, SIZE // 2] and not mask[0, 0] and not mask[-1, -1]
    # The normal faces the camera: +z, leaning towards +y (the top is farther away).
    expected = torch.nn.functional.normalize(torch.tensor([0.0, 0.5, 1.0], device=device), dim=0)
    assert torch.allclose(surface.normal[0][mask], expected.expand(int(mask.sum()), 3), atol=1e-5)
    assert (surface.normal[0][~mask] == 0).all() and (surface.position[0][~mask] == 0).all()
    # Positions lie on the triangle's plane and project back to their pixel centres.
    points = surface.position[0][mask]
    assert ((points - vertices[0, 0]) @ expected).abs().max() < 1e-5
    uv, depth = CAMERA.project(points)
    assert torch.allclose(uv, pixel_centres(device)[mask], atol=1e-3) and (depth > 0).all()


def test_coverage_is_the_pixel_centres_inside_the_projected_triangle():
    vertices, faces = triangle()
    mask = visible_surface(vertices, faces, CAMERA).mask[0]
    uv, _ = CAMERA.project(vertices[0])
    centres = pixel_centres()
    edges = [(uv[i], uv[(i + 1) % 3]) for i in range(3)]
    # Counter-clockwise in camera space is clockwise in pixel coordinates (v grows downwards).
    inside = torch.stack([(b[0] - a[0]) * (centres[..., 1] - a[1]) - (b[1] - a[1]) * (centres[..., 0] - a[0])
                          for a, b in edges]).le(0).all(dim=0)
    assert torch.equal(mask, inside)


def test_the_nearest_face_is_visible():
    near, faces = triangle(z=-2.0)
    far, _ = triangle(z=-3.0, tilt=1.0)
    both = visible_surface(torch.cat([far, near], dim=1), torch.cat([faces, faces + 3], dim=1), CAMERA)
    alone = visible_surface(near, faces, CAMERA)
    centre = alone.mask[0]
    assert torch.allclose(both.position[0][centre], alone.position[0][centre], atol=1e-5)
    assert torch.allclose(both.normal[0][centre], alone.normal[0][centre])


def test_batch_with_padding_faces():
    vertices, faces = triangle()
    padded = torch.cat([faces, torch.zeros(1, 2, 3, dtype=torch.long)], dim=1)  # degenerate (0, 0, 0) faces
    batch = visible_surface(torch.cat([vertices, vertices * 0.5]), torch.cat([padded, padded]), CAMERA)
    assert batch.mask.shape == (2, SIZE, SIZE)
    assert torch.equal(batch.mask[0], visible_surface(vertices, faces, CAMERA).mask[0])
    assert batch.mask[1].sum() > 0 and batch.mask[1].sum() == batch.mask[0].sum()  # scaled about the camera
    assert torch.equal(batch.subset(torch.tensor([1])).mask, batch.mask[1:])


@pytest.mark.parametrize("kind", ["directional", "point"])
def test_shade_shapes_values_and_uncovered_pixels(kind, device):
    vertices, faces = triangle(device=device)
    surface = visible_surface(vertices.expand(2, -1, -1), faces.expand(2, -1, -1), CAMERA)
    target = torch.tensor([[0.0, 0.0, -2.0]] * 2, device=device)
    light = target + torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]], device=device)  # facing, behind
    lighting = Lighting(kind, intensity=1.0, ambient=0.1, albedo=0.8)
    image = shade(surface, light, target, lighting)
    assert image.shape == (2, SIZE, SIZE, 3) and image.device.type == device.type
    assert torch.equal(image[..., 0], image[..., 2])
    mask = surface.mask
    assert (image[~mask] == 0).all()  # black where the surface is absent
    assert torch.allclose(image[1][mask[1]], torch.tensor((0.8 * 0.1) ** (1 / GAMMA), device=device))  # ambient
    centre = image[0, SIZE // 2, SIZE // 2, 0].item()
    expected = (0.8 * (0.1 + DIFFUSE_SHARE / math.pi)) ** (1 / GAMMA)  # cosine 1; a point light about 1 m away
    assert centre == pytest.approx(expected, rel=3e-3 if kind == "point" else 1e-5)
    if kind == "directional":
        assert torch.allclose(image[0][mask[0]], torch.tensor(expected, device=device))  # parallel rays: uniform
    else:
        assert image[0][mask[0]].max() == pytest.approx(centre, abs=2e-3)  # the brightest point faces the light
        assert image[0][mask[0]].min() < centre - 0.02


def test_a_bright_light_saturates_at_one():
    vertices, faces = triangle()
    surface = visible_surface(vertices, faces, CAMERA)
    image = shade(surface, torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[0.0, 0.0, -2.0]]),
                  Lighting(intensity=100.0))
    assert image.max() == 1.0 and image[0][surface.mask[0]].min() == 1.0


def float64_surface() -> Surface:
    vertices, faces = triangle(tilt=0.7)
    surface = visible_surface(vertices.double(), faces, CAMERA)
    assert surface.normal.dtype == torch.float64 and surface.position.dtype == torch.float64
    return surface


@pytest.mark.parametrize("kind", ["directional", "point"])
def test_shade_gradcheck_with_respect_to_the_light(kind):
    surface = float64_surface()
    target = torch.tensor([[0.0, 0.0, -2.0]], dtype=torch.float64)
    light = torch.tensor([[0.3, -0.4, -0.9]], dtype=torch.float64, requires_grad=True)
    lighting = Lighting(kind, intensity=1.5)
    with pytest.raises(FrozenInstanceError):
        lighting.intensity = 2.0  # type: ignore[misc]
    weights = torch.rand(1, SIZE, SIZE, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda at: (shade(surface, at, target, lighting) * weights).sum(), (light,))
    assert torch.autograd.gradcheck(lambda at: shade(surface, at, target, lighting)[0, 14:18, 14:18, 0], (light,))
    (gradient,) = torch.autograd.grad(shade(surface, light, target, lighting).sum(), light)
    assert gradient.abs().sum() > 0


def test_bad_input():
    vertices, faces = triangle()
    with pytest.raises(ValueError, match=r"expected vertices \(B, V, 3\) and faces \(B, F, 3\)"):
        visible_surface(vertices[0], faces[0], CAMERA)
    with pytest.raises(ValueError, match=r"expected vertices \(B, V, 3\) and faces \(B, F, 3\)"):
        visible_surface(vertices, faces.expand(2, -1, -1), CAMERA)
    surface = visible_surface(vertices, faces, CAMERA)
    with pytest.raises(ValueError, match=r"lights must have shape \(1, 3\), got \(2, 3\)"):
        shade(surface, torch.zeros(2, 3), torch.zeros(2, 3), Lighting())
    with pytest.raises(ValueError, match=r"lights must have shape \(1, 3\), got \(3,\)"):
        shade(surface, torch.zeros(3), torch.zeros(1, 3), Lighting())


def test_faces_behind_the_camera_are_not_drawn():
    vertices, faces = triangle(z=2.0)
    assert not visible_surface(vertices, faces, CAMERA).mask.any()
