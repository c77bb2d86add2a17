"""The illumination problem's mesh input: faces wound outwards, the description, the app's array round trip."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from engine.meshes import Mesh, MeshError, mesh_from_trimesh
from engine.problems.illumination import SPEC
from engine.problems.illumination.meshes import (
    LitMesh,
    describe_mesh,
    mesh_arrays,
    mesh_from_arrays,
    resolve_lit_mesh,
    wound_outwards,
)


@pytest.fixture(scope="module")
def sphere() -> Mesh:
    return mesh_from_trimesh(trimesh.creation.icosphere(subdivisions=2), "icosphere")


def outward(mesh: Mesh) -> np.ndarray:
    """Per face: does its winding's normal point away from the centre (the mesh is centred at the origin)?"""
    corners = mesh.vertices.numpy()[mesh.faces.numpy()]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    return (normals * corners.mean(axis=1)).sum(axis=1) > 0


def flipped(mesh: Mesh) -> Mesh:
    return Mesh(mesh.vertices, mesh.faces[:, [0, 2, 1]].contiguous(), mesh.name, mesh.normalization)


def test_an_outward_mesh_is_left_as_it_is(sphere):
    lit = wound_outwards(sphere)
    assert isinstance(lit, LitMesh) and lit.turned_faces == 0 and outward(lit).all()
    assert torch.equal(lit.vertices, sphere.vertices) and lit.name == "icosphere"


def test_inverted_faces_are_turned_outwards(sphere):
    inverted = flipped(sphere)
    assert not outward(inverted).any()
    lit = wound_outwards(inverted)
    assert lit.turned_faces == sphere.num_faces
    assert outward(lit).all() and torch.equal(lit.vertices, sphere.vertices)
    # Each face keeps its corners: only the winding changes.
    corners = [sorted(map(tuple, np.sort(mesh.faces.numpy(), axis=1))) for mesh in (lit, sphere)]
    assert corners[0] == corners[1]


def test_some_inverted_faces_are_turned(sphere):
    faces = sphere.faces.clone()
    faces[:10] = faces[:10, [0, 2, 1]]
    lit = wound_outwards(Mesh(sphere.vertices, faces, "patchy", sphere.normalization))
    assert lit.turned_faces == 10 and outward(lit).all()


def test_describe_mesh_mentions_the_turned_faces(sphere):
    lit = wound_outwards(flipped(sphere))
    text = describe_mesh(lit)
    assert text == (f"mesh icosphere: {sphere.num_vertices} vertices, {sphere.num_faces} faces; "
                    f"{sphere.num_faces} faces turned to wind outwards")
    assert "turned" not in describe_mesh(wound_outwards(sphere))
    assert SPEC.inputs[0].describe(lit) == text


def test_resolve_lit_mesh_names_and_the_default():
    car = resolve_lit_mesh("car-1")
    assert isinstance(car, LitMesh) and car.name.startswith("car")
    assert isinstance(resolve_lit_mesh(None), LitMesh)
    with pytest.raises(ValueError):
        resolve_lit_mesh("no-such-object-or-file.obj")


def test_mesh_from_arrays_round_trip(sphere):
    lit = wound_outwards(flipped(sphere))
    arrays = mesh_arrays(lit)
    assert set(arrays) == {"vertices", "faces"} and arrays["vertices"].shape == (sphere.num_vertices, 3)
    again = mesh_from_arrays("restored", arrays)
    assert isinstance(again, LitMesh) and again.name == "restored" and again.turned_faces == 0
    assert torch.equal(again.vertices, lit.vertices) and torch.equal(again.faces, lit.faces)
    assert again.vertices.dtype == torch.float32 and again.faces.dtype == torch.int64


def test_mesh_from_arrays_refuses_bad_arrays():
    with pytest.raises(MeshError, match="'broken' must have \\(V, 3\\) vertices"):
        mesh_from_arrays("broken", {"vertices": np.zeros((4, 2)), "faces": np.zeros((1, 3), dtype=np.int64)})
    with pytest.raises(MeshError, match="contains no triangle faces"):
        mesh_from_arrays("empty", {"vertices": np.zeros((4, 3))})
    with pytest.raises(MeshError, match="face indices outside"):
        mesh_from_arrays("outside", {"vertices": np.eye(3), "faces": np.array([[0, 1, 5]])})
