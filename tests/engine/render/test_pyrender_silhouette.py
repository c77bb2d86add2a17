"""PyrenderSilhouetteRenderer: smoke, batch shapes, axis convention, bad input, threads, lifecycle, backends."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh

from engine.camera import Camera
from engine.render.gl_backend import RendererUnavailable, _library_present
from engine.render.pyrender_silhouette import PyrenderSilhouetteRenderer

REPO = Path(__file__).resolve().parents[3]
DISTANCE = 2.732  # NMR's default camera distance
CAMERA = Camera.square(128)  # fov_y 60 degrees


@dataclass
class Mesh:
    vertices: torch.Tensor
    faces: torch.Tensor
    name: str = "mesh"


def icosphere(subdivisions: int = 3) -> Mesh:
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions, radius=1.0)
    return Mesh(torch.tensor(sphere.vertices, dtype=torch.float32), torch.tensor(sphere.faces), "icosphere")


def poses(*translations: tuple[float, float, float]) -> torch.Tensor:
    out = torch.eye(4).repeat(len(translations), 1, 1)
    out[:, :3, 3] = torch.tensor(translations)
    return out


def centroid(silhouette: torch.Tensor) -> tuple[float, float]:
    """(row, column) of the covered pixels' centres."""
    rows, cols = torch.nonzero(silhouette, as_tuple=True)
    return rows.float().mean().item() + 0.5, cols.float().mean().item() + 0.5


@pytest.fixture(scope="module")
def renderer():
    try:
        instance = PyrenderSilhouetteRenderer(CAMERA)
    except RendererUnavailable as error:
        pytest.skip(f"no headless OpenGL: {error}")
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def sphere() -> Mesh:
    return icosphere()


def test_smoke_sphere_fills_the_projected_disc(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    silhouette = renderer.render(sphere.vertices, sphere.faces, poses((0.0, 0.0, -DISTANCE)))
    assert silhouette.shape == (1, 128, 128)
    assert silhouette.dtype == torch.float32
    assert set(silhouette.unique().tolist()) <= {0.0, 1.0}
    # The tangent cone of a unit sphere at distance d has half-angle asin(1/d).
    radius_px = CAMERA.focal * math.tan(math.asin(1.0 / DISTANCE))
    assert silhouette.sum().item() == pytest.approx(math.pi * radius_px**2, rel=0.03)
    assert centroid(silhouette[0]) == pytest.approx((64.0, 64.0), abs=0.1)


def test_batch_shapes(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    batch = poses((-0.5, 0.0, -DISTANCE), (0.0, 0.3, -DISTANCE), (0.4, -0.2, -4.0))
    shared = renderer.render(sphere.vertices, sphere.faces, batch)
    assert shared.shape == (3, 128, 128)
    per_item = renderer.render(sphere.vertices.expand(3, -1, -1), sphere.faces.expand(3, -1, -1), batch)
    assert torch.equal(shared, per_item)
    for b in range(3):
        single = renderer.render(sphere.vertices, sphere.faces, batch[b : b + 1])
        assert torch.equal(single[0], shared[b])
    assert len({centroid(s) for s in shared}) == 3
    assert renderer.render(sphere.vertices, sphere.faces, torch.zeros(0, 4, 4)).shape == (0, 128, 128)


def test_per_item_meshes(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    scales = torch.tensor([0.5, 1.0]).view(2, 1, 1)
    silhouettes = renderer.render(sphere.vertices * scales, sphere.faces, poses(*[(0.0, 0.0, -DISTANCE)] * 2))
    small, large = silhouettes.sum((1, 2)).tolist()
    assert 0.2 < small / large < 0.3  # about a quarter of the area


def test_axis_convention(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    centre, right, up, behind = renderer.render(
        sphere.vertices,
        sphere.faces,
        poses((0.0, 0.0, -DISTANCE), (0.3, 0.0, -DISTANCE), (0.0, 0.3, -DISTANCE), (0.0, 0.0, DISTANCE)),
    )
    (row0, col0), (row_r, col_r), (row_u, col_u) = centroid(centre), centroid(right), centroid(up)
    assert col_r > col0 + 5 and row_r == pytest.approx(row0, abs=0.1)  # +x moves right
    assert row_u < row0 - 5 and col_u == pytest.approx(col0, abs=0.1)  # +y moves up: smaller row index
    assert behind.sum() == 0
    # The silhouette of the shifted sphere is an ellipse (inside the image) whose centre lies midway between the
    # image columns of the two tangent rays in the x-z plane, at angles atan(x / d) +- asin(r / |c|).
    theta, alpha = math.atan2(0.3, DISTANCE), math.asin(1.0 / math.hypot(0.3, DISTANCE))
    expected = 64.0 + 0.5 * CAMERA.focal * (math.tan(theta + alpha) + math.tan(theta - alpha))
    assert col_r == pytest.approx(expected, abs=0.3)


def test_pixel_covered_exactly_when_its_centre_is(renderer: PyrenderSilhouetteRenderer) -> None:
    """Random camera-space triangles against a pixel-centre inside test written from engine.camera."""
    generator = torch.Generator().manual_seed(0)
    rows, cols = torch.meshgrid(torch.arange(128) + 0.5, torch.arange(128) + 0.5, indexing="ij")
    wrong = covered = 0
    for _ in range(20):
        triangle = torch.cat([torch.rand(3, 2, generator=generator) * 2 - 1, torch.full((3, 1), -2.0)], 1)
        uv, _ = CAMERA.project(triangle.double())
        edges = []
        for a, b in ((0, 1), (1, 2), (2, 0)):
            du, dv = uv[b] - uv[a]
            edges.append(du * (rows - uv[a, 1]) - dv * (cols - uv[a, 0]))
        edges = torch.stack(edges)
        inside = (edges >= 0).all(0) | (edges <= 0).all(0)
        silhouette = renderer.render(triangle, torch.tensor([[0, 1, 2]]), torch.eye(4)[None])[0]
        wrong += (silhouette.bool() != inside).sum().item()
        covered += inside.sum().item()
    assert covered > 5000
    assert wrong <= 0.002 * covered  # only pixel centres lying on an edge may go either way


def test_back_facing_and_open_meshes_draw(renderer: PyrenderSilhouetteRenderer) -> None:
    triangle = torch.tensor([[0.0, 0.0, -2.0], [1.0, 0.0, -2.0], [0.0, 1.0, -2.0]])
    front = renderer.render(triangle, torch.tensor([[0, 1, 2]]), torch.eye(4)[None])
    back = renderer.render(triangle, torch.tensor([[0, 2, 1]]), torch.eye(4)[None])
    assert front.sum() > 100
    assert torch.equal(front, back)


def test_padding_faces_draw_nothing(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    pose = poses((0.3, 0.0, -DISTANCE))
    padded = torch.cat([sphere.faces, torch.zeros(17, 3, dtype=torch.int64)])
    assert torch.equal(
        renderer.render(sphere.vertices, padded, pose), renderer.render(sphere.vertices, sphere.faces, pose)
    )
    assert renderer.render(sphere.vertices, torch.zeros(5, 3, dtype=torch.int64), pose).sum() == 0
    # Vertex 0 placed in view must not show up as a point through the padding either.
    assert renderer.render(torch.zeros(3, 3), torch.zeros(1, 3, dtype=torch.int64), pose).sum() == 0


def test_mesh_upload_is_cached(renderer: PyrenderSilhouetteRenderer) -> None:
    mesh = icosphere(2)
    before = renderer.mesh_uploads
    for x in (0.0, 0.1, 0.2):
        renderer.render(mesh.vertices, mesh.faces, poses((x, 0.0, -DISTANCE)))
    renderer.render(mesh.vertices.clone(), mesh.faces.clone(), poses((0.0, 0.0, -3.0)))  # same content
    assert renderer.mesh_uploads == before + 1
    moved = mesh.vertices.clone()
    moved[:, 0] += 0.5
    shifted = renderer.render(moved, mesh.faces, poses((0.0, 0.0, -DISTANCE)))
    assert renderer.mesh_uploads == before + 2
    assert centroid(shifted[0])[1] > 64 + 10  # the new content is drawn, not the cached mesh


@pytest.mark.parametrize(
    "vertices, faces, pose, message",
    [
        (torch.zeros(4, 2), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4)[None], "vertices must have shape"),
        (torch.zeros(2, 4, 3), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4)[None], "batch size 2"),
        (torch.zeros(4, 3), torch.zeros(1, 4, dtype=torch.int64), torch.eye(4)[None], "faces must have shape"),
        (torch.zeros(4, 3), torch.zeros(3, 1, 3, dtype=torch.int64), torch.eye(4)[None], "faces has batch size"),
        (torch.zeros(4, 3), torch.zeros(1, 3), torch.eye(4)[None], "integer"),
        (torch.zeros(4, 3, dtype=torch.int64), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4)[None], "floating"),
        (torch.zeros(4, 3), torch.tensor([[0, 1, 4]]), torch.eye(4)[None], "4 vertices"),
        (torch.zeros(4, 3), torch.tensor([[0, -1, 2]]), torch.eye(4)[None], "4 vertices"),
        (torch.zeros(4, 3), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4), r"\(B, 4, 4\)"),
        (torch.zeros(4, 3), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4)[None, :3], r"\(B, 4, 4\)"),
        (torch.zeros(4, 3), torch.zeros(1, 3, dtype=torch.int64), torch.ones(1, 4, 4), "last row"),
        (torch.full((4, 3), math.nan), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4)[None], "NaN"),
        (np.zeros((4, 3)), torch.zeros(1, 3, dtype=torch.int64), torch.eye(4)[None], "torch.Tensor"),
    ],
)
def test_bad_input_raises(renderer: PyrenderSilhouetteRenderer, vertices, faces, pose, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        renderer.render(vertices, faces, pose)


def test_concurrent_renders_from_two_threads(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    cube = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    meshes = [sphere, Mesh(torch.tensor(cube.vertices, dtype=torch.float32), torch.tensor(cube.faces))]
    jobs = [poses(*[(0.1 * k - 0.3, 0.05 * k, -DISTANCE - 0.1 * k) for k in range(4)]) for _ in meshes]
    expected = [renderer.render(mesh.vertices, mesh.faces, pose) for mesh, pose in zip(meshes, jobs)]
    results: dict[int, list[torch.Tensor]] = {0: [], 1: []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(index: int) -> None:
        try:
            start.wait()
            for _ in range(10):
                results[index].append(renderer.render(meshes[index].vertices, meshes[index].faces, jobs[index]))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for index in range(2):
        assert len(results[index]) == 10
        assert all(torch.equal(result, expected[index]) for result in results[index])


def test_close_then_render_raises(sphere: Mesh) -> None:
    pose = poses((0.0, 0.0, -DISTANCE))
    first = PyrenderSilhouetteRenderer(Camera.square(32))
    with PyrenderSilhouetteRenderer(Camera.square(48)) as second:
        assert second.render(sphere.vertices, sphere.faces, pose).sum() > 0
    assert second.closed
    second.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed; create a new renderer"):
        second.render(sphere.vertices, sphere.faces, pose)
    # Closing one renderer must leave the others working (EGL contexts share one display).
    assert first.render(sphere.vertices, sphere.faces, pose).sum() > 0
    first.close()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_result_on_the_pose_device(renderer: PyrenderSilhouetteRenderer, sphere: Mesh) -> None:
    pose = poses((0.0, 0.0, -DISTANCE)).cuda()
    silhouette = renderer.render(sphere.vertices.cuda(), sphere.faces, pose)
    assert silhouette.device == pose.device
    assert torch.equal(silhouette.cpu(), renderer.render(sphere.vertices, sphere.faces, pose.cpu()))


OSMESA_POSE = (0.3, -0.2, -DISTANCE)
OSMESA_SCRIPT = """
import sys, torch, trimesh
from engine.camera import Camera
from engine.render.pyrender_silhouette import PyrenderSilhouetteRenderer
sphere = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
pose = torch.eye(4)[None].clone()
pose[0, :3, 3] = torch.tensor(%r)
with PyrenderSilhouetteRenderer(Camera.square(128)) as renderer:
    silhouette = renderer.render(torch.tensor(sphere.vertices, dtype=torch.float32), torch.tensor(sphere.faces), pose)
    print(renderer.platform, int(silhouette.sum()))
    torch.save(silhouette.bool(), sys.argv[1])
""" % (OSMESA_POSE,)


@pytest.fixture(scope="module", autouse=True)
def osmesa_run(tmp_path_factory: pytest.TempPathFactory):
    """Starts the forced-OSMesa subprocess when the module starts, so its imports overlap the other tests."""
    if not _library_present("osmesa"):
        yield None
        return
    out_path = tmp_path_factory.mktemp("osmesa") / "silhouette.pt"
    environment = {k: v for k, v in os.environ.items() if k != "PYOPENGL_PLATFORM"}
    environment["FEEDBACKLAB_GL"] = "osmesa"
    process = subprocess.Popen(
        [sys.executable, "-c", OSMESA_SCRIPT, str(out_path)],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    yield process, out_path
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.mark.skipif(not _library_present("osmesa"), reason="libOSMesa not installed")
def test_forced_osmesa_renders_the_same_silhouette(
    renderer: PyrenderSilhouetteRenderer, sphere: Mesh, osmesa_run
) -> None:
    process, out_path = osmesa_run
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    platform, count = stdout.split()
    assert platform == "osmesa" and int(count) > 1000
    osmesa = torch.load(out_path, weights_only=True)
    here = renderer.render(sphere.vertices, sphere.faces, poses(OSMESA_POSE))[0].bool()
    assert (osmesa[0] != here).sum() <= 2  # both backends cover a pixel exactly when its centre is covered
