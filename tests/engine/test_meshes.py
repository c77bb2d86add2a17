"""engine.meshes: formats, scene flattening, bad input, cleaning, simplification, batching."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from engine.meshes import SUPPORTED_EXTENSIONS, Mesh, MeshError, load_mesh, mesh_from_trimesh, stack_meshes


def _write_obj(path, vertices, faces) -> None:
    lines = [f"v {x} {y} {z}" for x, y, z in vertices] + [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")


def _radius(mesh: Mesh) -> float:
    return float(mesh.vertices.norm(dim=1).max())


class TestFormats:
    @pytest.mark.parametrize("ext", [e[1:] for e in SUPPORTED_EXTENSIONS])
    @pytest.mark.parametrize("shape", ["box", "icosphere"])
    def test_round_trip(self, tmp_path, ext, shape):
        if shape == "box":
            source = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
        else:
            source = trimesh.creation.icosphere(subdivisions=2, radius=3.0)
        source.apply_translation((5.0, -2.0, 1.0))
        path = tmp_path / f"{shape}.{ext}"
        source.export(path)

        mesh = load_mesh(path)

        assert mesh.name == shape
        assert mesh.num_faces == len(source.faces)
        assert mesh.vertices.dtype == torch.float32 and mesh.vertices.shape == (mesh.num_vertices, 3)
        assert mesh.faces.dtype == torch.int64 and mesh.faces.shape == (mesh.num_faces, 3)
        assert _radius(mesh) == pytest.approx(1.0, abs=1e-5)
        centre = 0.5 * (mesh.vertices.min(0).values + mesh.vertices.max(0).values)
        assert centre.abs().max() < 1e-5
        assert mesh.simplified_from is None

    def test_normalization_recovers_file_coordinates(self, tmp_path):
        source = trimesh.creation.box(extents=(2.0, 1.0, 0.5)).apply_translation((5.0, -2.0, 1.0))
        source.export(tmp_path / "box.ply")
        mesh = load_mesh(tmp_path / "box.ply")
        assert mesh.normalization.shape == (4, 4) and mesh.normalization.dtype == np.float64
        back = trimesh.transform_points(mesh.vertices.double().numpy(), np.linalg.inv(mesh.normalization))
        assert np.allclose(np.sort(back, axis=0), np.sort(source.vertices, axis=0), atol=1e-5)

    def test_extension_is_case_insensitive(self, tmp_path):
        trimesh.creation.box().export(tmp_path / "box.stl")
        (tmp_path / "box.stl").rename(tmp_path / "BOX.STL")
        assert load_mesh(tmp_path / "BOX.STL").num_faces == 12

    def test_stl_triangle_soup_is_welded(self, tmp_path):
        trimesh.creation.box().export(tmp_path / "box.stl")
        mesh = load_mesh(str(tmp_path / "box.stl"))
        assert mesh.num_vertices == 8

    def test_to_trimesh(self, tmp_path):
        trimesh.creation.icosphere(subdivisions=1).export(tmp_path / "s.off")
        mesh = load_mesh(tmp_path / "s.off")
        tm = mesh.to_trimesh()
        assert isinstance(tm, trimesh.Trimesh)
        assert tm.faces.shape == (mesh.num_faces, 3) and tm.vertices.shape == (mesh.num_vertices, 3)


class TestScenes:
    def test_glb_scene_flattened_with_transforms(self, tmp_path):
        scene = trimesh.Scene()
        scene.add_geometry(trimesh.creation.box(extents=(1, 1, 1)), node_name="a",
                           transform=trimesh.transformations.translation_matrix((-4.0, 0, 0)))
        rotate_and_move = trimesh.transformations.translation_matrix((4.0, 0, 0)) @ \
            trimesh.transformations.rotation_matrix(np.pi / 4, (0, 0, 1))
        scene.add_geometry(trimesh.creation.box(extents=(1, 1, 1)), node_name="b", transform=rotate_and_move)
        path = tmp_path / "two.glb"
        path.write_bytes(scene.export(file_type="glb"))

        mesh = load_mesh(path)

        assert mesh.num_faces == 24
        assert _radius(mesh) == pytest.approx(1.0, abs=1e-5)
        # Back in file coordinates: one unit cube around x = -4, one cube turned 45 degrees about z around x = 4.
        world = trimesh.transform_points(mesh.vertices.double().numpy(), np.linalg.inv(mesh.normalization))
        left, right = world[world[:, 0] < 0], world[world[:, 0] > 0]
        assert np.allclose(left.mean(0), (-4, 0, 0), atol=1e-5)
        assert np.allclose(np.ptp(left, axis=0), (1, 1, 1), atol=1e-5)
        assert np.allclose(right.mean(0), (4, 0, 0), atol=1e-5)
        assert np.allclose(np.ptp(right, axis=0)[:2], (np.sqrt(2), np.sqrt(2)), atol=1e-5)

    def test_point_cloud_ignored(self):
        scene = trimesh.Scene([trimesh.creation.box(), trimesh.PointCloud(np.random.default_rng(0).normal(size=(50, 3)) * 100)])
        mesh = mesh_from_trimesh(scene, "mixed")
        assert mesh.num_faces == 12
        assert _radius(mesh) == pytest.approx(1.0, abs=1e-5)


class TestBadInput:
    def _raises(self, path, fragment=None):
        with pytest.raises(MeshError) as info:
            load_mesh(path)
        message = str(info.value)
        assert path.name in message
        assert "\n" not in message
        if fragment is not None:
            assert fragment in message
        return message

    def test_missing(self, tmp_path):
        self._raises(tmp_path / "nothere.obj", "does not exist")

    def test_directory(self, tmp_path):
        folder = tmp_path / "meshes.obj"
        folder.mkdir()
        self._raises(folder, "directory")

    @pytest.mark.parametrize("ext", ["obj", "ply", "stl", "off", "glb", "gltf"])
    def test_garbage_bytes(self, tmp_path, ext):
        path = tmp_path / f"garbage.{ext}"
        path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
        self._raises(path)

    def test_png_renamed(self, tmp_path):
        from PIL import Image

        path = tmp_path / "picture.obj"
        Image.new("RGB", (16, 16), (200, 10, 10)).save(path, format="PNG")
        self._raises(path)

    def test_text_file(self, tmp_path):
        path = tmp_path / "notes.obj"
        path.write_text("these are my notes\nnot a mesh\n")
        self._raises(path, "no triangle faces")

    def test_empty_obj(self, tmp_path):
        path = tmp_path / "empty.obj"
        path.write_text("")
        self._raises(path, "no triangle faces")

    def test_points_only(self, tmp_path):
        path = tmp_path / "points.obj"
        path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
        self._raises(path, "no triangle faces")

    @pytest.mark.parametrize("value", ["nan", "inf"])
    def test_non_finite_vertex(self, tmp_path, value):
        path = tmp_path / "broken.obj"
        path.write_text(f"v 0 0 0\nv 1 0 0\nv {value} 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n")
        self._raises(path, "NaN or infinite")

    def test_all_degenerate(self, tmp_path):
        path = tmp_path / "flat.obj"
        # A repeated index, a collinear triangle and two coincident corners.
        _write_obj(path, [(0, 0, 0), (1, 0, 0), (2, 0, 0), (1, 0, 0)], [(0, 0, 1), (0, 1, 2), (0, 1, 3)])
        self._raises(path, "degenerate")

    def test_huge_coordinates_say_so(self, tmp_path):
        path = tmp_path / "box.obj"
        box = trimesh.creation.box()
        _write_obj(path, box.vertices * 1e300, box.faces)
        message = self._raises(path, "coordinates as large as")
        assert "degenerate" not in message and "scale the mesh down" in message

    @pytest.mark.parametrize("name", ["model.fbx", "model.3ds", "model"])
    def test_unsupported_extension(self, tmp_path, name):
        path = tmp_path / name
        path.write_text("whatever")
        message = self._raises(path, "unsupported")
        for ext in SUPPORTED_EXTENSIONS:
            assert ext in message

    def test_mesh_from_trimesh_names_mesh(self):
        with pytest.raises(MeshError, match="my-mesh"):
            mesh_from_trimesh(trimesh.Trimesh(), "my-mesh")

    def test_bad_max_faces(self, tmp_path):
        trimesh.creation.box().export(tmp_path / "box.obj")
        with pytest.raises(ValueError, match="max_faces"):
            load_mesh(tmp_path / "box.obj", max_faces=0)


class TestCleaning:
    def test_degenerate_faces_and_unused_vertices_dropped(self, tmp_path):
        box = trimesh.creation.box()
        vertices = np.vstack([box.vertices, [[7.0, 7.0, 7.0], [0.5, 0.5, 0.5]]])  # 8: unused, 9: only in junk
        faces = np.vstack([box.faces, [[0, 0, 1], [9, 9, 9], [0, 1, 1], [0, 6, 6]]])
        path = tmp_path / "dirty.obj"
        _write_obj(path, vertices, faces)

        mesh = load_mesh(path)

        assert mesh.num_faces == 12
        assert mesh.num_vertices == 8
        assert _radius(mesh) == pytest.approx(1.0, abs=1e-5)  # the unused far vertex does not count

    def test_no_degenerate_faces_left(self, tmp_path):
        mesh = mesh_from_trimesh(trimesh.creation.icosphere(subdivisions=2), "s")
        corners = mesh.vertices[mesh.faces].double()
        area = torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]).norm(dim=1)
        assert (area > 0).all()
        assert torch.unique(mesh.faces).numel() == mesh.num_vertices


class TestSimplification:
    def test_large_mesh_is_simplified(self, tmp_path):
        source = trimesh.creation.icosphere(subdivisions=7)  # 327,680 faces
        path = tmp_path / "dense.ply"
        source.export(path)

        mesh = load_mesh(path, max_faces=20_000)

        assert mesh.simplified_from == len(source.faces)
        assert 0.8 * 20_000 <= mesh.num_faces <= 20_000
        assert _radius(mesh) == pytest.approx(1.0, abs=1e-5)
        assert torch.unique(mesh.faces).numel() == mesh.num_vertices

    def test_stalled_decimation_falls_back_to_clustering(self):
        # fast_simplification stalls on dense UV spheres (sliver fans at the poles) and eats part of the surface;
        # the result must still respect max_faces and keep the sphere whole.
        sphere = trimesh.creation.uv_sphere(count=[200, 200])  # 158,400 faces
        mesh = mesh_from_trimesh(sphere, "uv", max_faces=1000)
        assert mesh.simplified_from == len(sphere.faces)
        assert 500 <= mesh.num_faces <= 1000
        tm = mesh.to_trimesh()
        assert tm.is_watertight
        assert tm.area == pytest.approx(4 * np.pi, rel=0.05)

    def test_below_limit_untouched(self):
        mesh = mesh_from_trimesh(trimesh.creation.icosphere(subdivisions=3), "s", max_faces=1280)
        assert mesh.num_faces == 1280 and mesh.simplified_from is None


class TestStack:
    def test_shapes_and_padding(self):
        small = mesh_from_trimesh(trimesh.creation.box(), "box")
        big = mesh_from_trimesh(trimesh.creation.icosphere(subdivisions=1), "ico")

        vertices, faces, counts = stack_meshes([small, big])

        assert vertices.shape == (2, big.num_vertices, 3) and vertices.dtype == torch.float32
        assert faces.shape == (2, big.num_faces, 3) and faces.dtype == torch.int64
        assert counts.tolist() == [12, big.num_faces] and counts.dtype == torch.int64
        assert torch.equal(vertices[0, :8], small.vertices) and (vertices[0, 8:] == 0).all()
        assert torch.equal(faces[0, :12], small.faces) and (faces[0, 12:] == 0).all()
        assert torch.equal(faces[1], big.faces)

    def test_empty_list(self):
        with pytest.raises(ValueError):
            stack_meshes([])
