"""PyrenderShadedRenderer: smoke, batch shapes, depth, shadows of directional and point lights, the spot cone a
point light is drawn with, look_at, and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh

from engine.camera import Camera
from engine.render.gl_backend import RendererUnavailable
from engine.render.pyrender_shaded import CONE_MARGIN, Lighting, PyrenderShadedRenderer, look_at, spot_cone

SIZE = 64
CAMERA = Camera.square(SIZE)  # fov_y 60 degrees
DISTANCE = 3.0


def poses(*translations: tuple[float, float, float]) -> torch.Tensor:
    out = torch.eye(4).repeat(len(translations), 1, 1)
    out[:, :3, 3] = torch.tensor(translations)
    return out


def column(x: float, depth: float) -> int:
    """The image column of a camera-space point at (x, ., -depth)."""
    return int(SIZE / 2 + CAMERA.focal * x / depth)


@pytest.fixture(scope="module")
def renderer():
    try:
        instance = PyrenderShadedRenderer(CAMERA)
    except RendererUnavailable as error:
        pytest.skip(f"no headless OpenGL: {error}")
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def sphere() -> tuple[torch.Tensor, torch.Tensor]:
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    return torch.tensor(mesh.vertices, dtype=torch.float32), torch.tensor(mesh.faces)


@pytest.fixture(scope="module")
def plate_and_box() -> tuple[torch.Tensor, torch.Tensor]:
    """Camera space: a large flat box facing the camera at z = -3 and a small box floating 0.5 m in front of it."""
    plate = trimesh.creation.box((2.0, 2.0, 0.1), trimesh.transformations.translation_matrix((0, 0, -DISTANCE)))
    box = trimesh.creation.box((0.3, 0.3, 0.3), trimesh.transformations.translation_matrix((0, 0, -2.5)))
    both = trimesh.util.concatenate([plate, box])
    return torch.tensor(both.vertices, dtype=torch.float32), torch.tensor(both.faces)


@pytest.mark.parametrize("kind", ["directional", "point"])
def test_smoke_and_batch_shapes(renderer, sphere, kind):
    vertices, faces = sphere
    transform = poses((0.0, 0.0, -DISTANCE), (0.4, 0.0, -DISTANCE), (0.0, -0.3, -2.0))
    targets = transform[:, :3, 3]
    lights = targets + torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.5], [-0.5, 0.7, 0.5]])
    colour, depth = renderer.render(vertices, faces, transform, lights, targets, 0.5, Lighting(kind))
    assert colour.shape == (3, SIZE, SIZE, 3) and colour.dtype == torch.float32
    assert depth.shape == (3, SIZE, SIZE) and depth.dtype == torch.float32
    assert colour.min() >= 0 and colour.max() <= 1
    covered = depth > 0
    assert covered.any(dim=(1, 2)).all() and colour[~covered].max() < 0.7  # anti-aliased edges only
    assert depth[0][covered[0]].min() == pytest.approx(DISTANCE - 0.5, abs=0.02)
    assert depth[0, SIZE // 2, SIZE // 2].item() == pytest.approx(DISTANCE - 0.5, abs=0.02)
    per_item = renderer.render(vertices.expand(3, -1, -1), faces.expand(3, -1, -1), transform, lights, targets,
                               0.5, Lighting(kind))
    assert torch.equal(per_item[0], colour) and torch.equal(per_item[1], depth)
    single = renderer.render(vertices, faces, transform[1:2], lights[1:2], targets[1:2], 0.5, Lighting(kind))
    assert torch.equal(single[0][0], colour[1])
    empty = renderer.render(vertices, faces, torch.zeros(0, 4, 4), torch.zeros(0, 3), torch.zeros(0, 3), 0.5)
    assert empty[0].shape == (0, SIZE, SIZE, 3) and empty[1].shape == (0, SIZE, SIZE)


def test_the_lit_side_is_brighter_and_intensity_and_ambient_count(renderer, sphere):
    vertices, faces = sphere
    transform = poses((0.0, 0.0, -DISTANCE))
    target = transform[:, :3, 3]
    right = target + torch.tensor([[2.0, 0.0, 0.0]])
    colour, depth = renderer.render(vertices, faces, transform, right, target, 0.5)
    row = SIZE // 2
    assert colour[0, row, column(0.35, 2.7), 0] > colour[0, row, column(-0.35, 2.7), 0] + 0.3  # lit from +x
    dark = renderer.render(vertices, faces, transform, right, target, 0.5, Lighting(ambient=0.0))[0]
    assert dark[0, row, column(-0.35, 2.7)].max() == 0  # the unlit side without ambient light is black
    dim = renderer.render(vertices, faces, transform, right, target, 0.5, Lighting(intensity=1.0))[0]
    assert dim[0, row, column(0.35, 2.7), 0] < colour[0, row, column(0.35, 2.7), 0]


@pytest.mark.parametrize("kind, light", [("directional", (2.0, 0.0, -1.0)), ("point", (1.0, 0.0, -1.5))])
def test_the_small_box_casts_a_shadow_on_the_plate(renderer, plate_and_box, kind, light):
    """Light from +x and the camera's side, 45 degrees to the plate: the box's shadow falls around x = -0.45 on
    the plate (seen beside the box, not behind it), while x = +0.45 is lit."""
    vertices, faces = plate_and_box
    colour, depth = renderer.render(vertices, faces, torch.eye(4)[None], torch.tensor([light]),
                                    torch.tensor([[0.0, 0.0, -DISTANCE]]), 1.5, Lighting(kind))
    plate_depth = DISTANCE - 0.05
    rows = slice(SIZE // 2 - 1, SIZE // 2 + 2)
    shadow = colour[0, rows, column(-0.45, plate_depth) - 1:column(-0.45, plate_depth) + 2, 0]
    lit = colour[0, rows, column(0.45, plate_depth) - 1:column(0.45, plate_depth) + 2, 0]
    assert depth[0, rows, column(-0.45, plate_depth)].tolist() == pytest.approx([plate_depth] * 3, abs=0.01)
    assert depth[0, SIZE // 2, SIZE // 2].item() == pytest.approx(2.35, abs=0.01)  # the box's front
    ambient = (0.8 * 0.1) ** (1 / 2.2)
    assert shadow.max() < ambient + 0.03 and lit.min() > shadow.max() + 0.2
    # Far from the box, the plate is lit on both sides.
    assert colour[0, SIZE // 2 + 12, column(-0.45, plate_depth), 0] > shadow.max() + 0.1
    unshadowed = renderer.render(vertices, faces, torch.eye(4)[None], torch.tensor([light]),
                                 torch.tensor([[0.0, 0.0, -DISTANCE]]), 1.5, Lighting(kind, shadows=False))[0]
    beside = slice(column(-0.45, plate_depth) - 1, column(-0.45, plate_depth) + 2)
    assert unshadowed[0, rows, beside, 0].min() > shadow.max() + 0.1  # shadows off: the plate is lit there


def test_look_at():
    position, target = np.array([1.0, 2.0, -1.0]), np.array([0.0, 0.0, -3.0])
    pose = look_at(position, target)
    assert np.allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3)) and np.linalg.det(pose[:3, :3]) == pytest.approx(1)
    assert np.allclose(pose[:3, 3], position)
    assert np.allclose(-pose[:3, 2], (target - position) / np.linalg.norm(target - position))
    straight_down = look_at(np.array([0.0, 5.0, 0.0]), np.zeros(3))  # along the default up vector
    assert np.allclose(-straight_down[:3, 2], [0.0, -1.0, 0.0]) and np.isfinite(straight_down).all()


def test_spot_cone():
    inner, outer = spot_cone(2.0, 0.5)
    assert inner == pytest.approx(math.asin(0.25) + CONE_MARGIN) and outer == pytest.approx(inner + CONE_MARGIN)
    close, close_outer = spot_cone(0.501, 0.5)
    assert close == pytest.approx(math.pi / 2 - 2 * CONE_MARGIN)  # capped below a half sphere
    assert close_outer < math.pi / 2
    with pytest.raises(ValueError, match="is inside its bounding sphere"):
        spot_cone(0.4, 0.5)
    with pytest.raises(ValueError, match="is inside its bounding sphere"):
        spot_cone(0.5, 0.5)


def test_a_point_light_inside_the_bounding_sphere_is_refused(renderer, sphere):
    vertices, faces = sphere
    transform = poses((0.0, 0.0, -DISTANCE))
    with pytest.raises(ValueError, match="inside its bounding sphere"):
        renderer.render(vertices, faces, transform, torch.tensor([[0.0, 0.0, -2.8]]), transform[:, :3, 3], 0.5,
                        Lighting("point"))


def test_bad_input(renderer, sphere):
    vertices, faces = sphere
    transform = poses((0.0, 0.0, -DISTANCE), (0.0, 0.0, -DISTANCE))
    targets = transform[:, :3, 3]
    lights = targets + torch.tensor([0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"expected object_to_camera \(B, 4, 4\), lights and targets \(B, 3\)"):
        renderer.render(vertices, faces, transform, lights[:, :2], targets, 0.5)
    with pytest.raises(ValueError, match=r"expected object_to_camera \(B, 4, 4\)"):
        renderer.render(vertices, faces, transform[:, :3], lights, targets, 0.5)
    with pytest.raises(ValueError, match=r"expected object_to_camera"):
        renderer.render(vertices, faces, transform, lights, targets[:1], 0.5)
    with pytest.raises(ValueError, match=r"vertices must have shape \(N, 3\) or \(2, N, 3\)"):
        renderer.render(vertices.expand(3, -1, -1), faces, transform, lights, targets, 0.5)
    with pytest.raises(ValueError, match=r"faces must have shape \(N, 3\) or \(2, N, 3\)"):
        renderer.render(vertices, faces[None], transform, lights, targets, 0.5)
    with pytest.raises(ValueError, match="NaN or infinite"):
        renderer.render(vertices, faces, transform, torch.full((2, 3), float("nan")), targets, 0.5)
    with pytest.raises(ValueError, match="a light sits exactly on the point it faces"):
        renderer.render(vertices, faces, transform, targets.clone(), targets, 0.5)
    with pytest.raises(ValueError, match="unknown light kind 'spot'; choose one of directional, point"):
        Lighting("spot")
    with pytest.raises(ValueError, match="camera must be an engine.camera.Camera"):
        PyrenderShadedRenderer((64, 64))
