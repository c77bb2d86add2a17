"""The illumination problem's mesh input: a mesh whose faces are wound outwards, because shading reads the
normal from the winding.

Normals in the file are never read (most formats may omit them, and those given can disagree with the faces):
every face's normal comes from its winding. Windings are made consistent per connected part and turned outwards
where a part is closed (trimesh's fix_normals); the faces turned are counted in the mesh's description. An open
part has no inside, so its outward side is a guess (the winding the majority of its faces had): a face lit from
behind renders dark, in the forward process and in the differentiable renderer alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import trimesh

from ...meshes import DEFAULT_MAX_FACES, Mesh, check_mesh_arrays
from ...procedural import resolve_mesh


@dataclass(frozen=True, eq=False)
class LitMesh(Mesh):
    """A mesh wound outwards, and how many of its faces that turned."""

    turned_faces: int = 0


def wound_outwards(mesh: Mesh) -> LitMesh:
    """The mesh with every closed part's faces wound outwards (the same vertices)."""
    faces = mesh.faces.numpy()
    shape = trimesh.Trimesh(mesh.vertices.numpy().astype(np.float64), faces.copy(), process=False)
    trimesh.repair.fix_normals(shape, multibody=True)
    fixed = np.asarray(shape.faces, dtype=np.int64)
    before = np.cross(*(mesh.vertices.numpy()[faces[:, k]] - mesh.vertices.numpy()[faces[:, 0]] for k in (1, 2)))
    after = np.cross(*(mesh.vertices.numpy()[fixed[:, k]] - mesh.vertices.numpy()[fixed[:, 0]] for k in (1, 2)))
    turned = int(((before * after).sum(axis=1) < 0).sum())
    return LitMesh(mesh.vertices, torch.as_tensor(fixed), mesh.name, mesh.normalization, mesh.simplified_from,
                   turned)


def resolve_lit_mesh(spec: str | None) -> LitMesh:
    """A mesh file or procedural object name (None: the built-in object), wound outwards."""
    mesh = resolve_mesh(spec)
    return mesh if isinstance(mesh, LitMesh) else wound_outwards(mesh)


def describe_mesh(mesh: Mesh) -> str:
    simplified = (f"; simplified from {mesh.simplified_from} to {mesh.num_faces} faces (the limit is "
                  f"{DEFAULT_MAX_FACES})" if mesh.simplified_from is not None else "")
    turned = getattr(mesh, "turned_faces", 0)
    wound = f"; {turned} faces turned to wind outwards" if turned else ""
    return f"mesh {mesh.name}: {mesh.num_vertices} vertices, {mesh.num_faces} faces{simplified}{wound}"


def mesh_arrays(mesh: Mesh) -> dict[str, np.ndarray]:
    return {"vertices": mesh.vertices.numpy(), "faces": mesh.faces.numpy()}


def mesh_from_arrays(name: str, arrays: dict[str, np.ndarray]) -> LitMesh:
    """A mesh the app already holds (normalised, wound outwards): restores a session or a restarted engine."""
    vertices, faces = (np.asarray(arrays.get(key, np.zeros((0, 3), dtype))) for key, dtype in
                       (("vertices", np.float32), ("faces", np.int64)))
    check_mesh_arrays(vertices, faces, name)
    mesh = Mesh(torch.as_tensor(vertices, dtype=torch.float32), torch.as_tensor(faces, dtype=torch.int64), name,
                np.eye(4))
    return wound_outwards(mesh)
