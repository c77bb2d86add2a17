"""More shapes from a mesh set, for training learned solvers that must meet meshes they never saw: every variant
is a mesh of the set stretched per axis, then tapered, bent or twisted along an axis, or joined with a smaller,
turned mesh of the set. Deterministic per seed; each variant is normalised like a loaded mesh."""
from __future__ import annotations

import numpy as np
import trimesh

from .meshes import Mesh, mesh_from_trimesh

STRETCH = (0.6, 1.6)
"""Per-axis scale range of every variant."""
TAPER = 0.4
"""Largest change of the cross-section's scale per unit length along the taper axis."""
BEND = 0.3
"""Largest sideways shift, in unit-sphere units, at the ends of the bend axis (parabolic)."""
TWIST_DEG = 45.0
"""Largest twist angle per unit length along the twist axis."""
PART_SCALE = (0.3, 0.6)
"""Size of the joined part relative to the mesh it joins."""
DEFORMATIONS = ("taper", "bend", "twist", "combine")


def shape_variants(meshes: list[Mesh], per_mesh: int, seed: int) -> list[Mesh]:
    """per_mesh variants of every mesh (named 'NAME~k'), in the order of the meshes."""
    variants = []
    for index, mesh in enumerate(meshes):
        for k in range(per_mesh):
            rng = np.random.default_rng((seed, index, k))
            stretch = rng.uniform(*STRETCH, size=3)
            kind = DEFORMATIONS[rng.integers(len(DEFORMATIONS))]
            variants.append(deformed_mesh(mesh, stretch, kind, meshes, rng, f"{mesh.name}~{k}"))
    return variants


def deformed_mesh(mesh: Mesh, stretch: np.ndarray, kind: str, parts: list[Mesh], rng: np.random.Generator,
                  name: str) -> Mesh:
    """The mesh scaled per axis by `stretch` (3,), then deformed by `kind` (one of DEFORMATIONS; 'combine' joins
    one of `parts`), with random amounts from rng."""
    if kind not in DEFORMATIONS:
        raise ValueError(f"unknown deformation {kind!r}; choose one of {', '.join(DEFORMATIONS)}")
    vertices = mesh.vertices.double().numpy() * stretch
    faces = mesh.faces.numpy()
    axis, side = rng.permutation(3)[:2]
    along = vertices[:, axis]
    if kind == "taper":
        scale = 1.0 + rng.uniform(-TAPER, TAPER) * along
        vertices = vertices * np.where(np.arange(3) == axis, 1.0, scale[:, None])
    elif kind == "bend":
        vertices = vertices.copy()
        vertices[:, side] += rng.uniform(-BEND, BEND) * along ** 2
    elif kind == "twist":
        vertices = _twisted(vertices, axis, np.radians(rng.uniform(-TWIST_DEG, TWIST_DEG)) * along)
    else:
        vertices, faces = _joined(vertices, faces, parts[rng.integers(len(parts))], rng)
    return mesh_from_trimesh(trimesh.Trimesh(vertices, faces, process=False), name)


def _twisted(vertices: np.ndarray, axis: int, angles: np.ndarray) -> np.ndarray:
    """Each vertex turned about `axis` by its own angle."""
    first, second = [a for a in range(3) if a != axis]
    cos, sin = np.cos(angles), np.sin(angles)
    twisted = vertices.copy()
    twisted[:, first] = cos * vertices[:, first] - sin * vertices[:, second]
    twisted[:, second] = sin * vertices[:, first] + cos * vertices[:, second]
    return twisted


def _joined(vertices: np.ndarray, faces: np.ndarray, part: Mesh, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """The mesh and a smaller, randomly turned copy of `part` whose centre sits near the mesh's surface."""
    turn = trimesh.transformations.random_rotation_matrix(rng.random(3))[:3, :3]
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    reach = np.max(vertices @ direction)
    placed = part.vertices.double().numpy() @ turn.T * rng.uniform(*PART_SCALE) + 0.8 * reach * direction
    return np.concatenate([vertices, placed]), np.concatenate([faces, part.faces.numpy() + len(vertices)])
