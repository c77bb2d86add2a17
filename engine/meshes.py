"""Loading triangle meshes: read, flatten, validate, clean, simplify and normalise into the unit sphere.

Every mesh the engine sees went through the same pipeline (`load_mesh` for files, `mesh_from_trimesh` for meshes
built in memory):

1. flatten: a scene (GLB/GLTF, multi-object OBJ) becomes one mesh, each part moved by its scene-graph transform;
   point clouds, paths and other non-triangle geometry are ignored;
2. validate: no faces, non-finite vertex coordinates or only degenerate faces are a `MeshError`;
3. clean: exactly coincident vertices are merged, degenerate faces (repeated indices, zero area) and vertices no
   face uses are dropped silently;
4. simplify: above `max_faces` faces the mesh is decimated (quadric error, `fast_simplification`), or clustered on
   a grid where the decimator stalls;
5. normalise: centre of the bounding box to the origin, farthest vertex at distance 1.

Only silhouettes and depth of the surface matter downstream, so colours, normals and UVs are discarded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import trimesh

SUPPORTED_EXTENSIONS = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")
DEFAULT_MAX_FACES = 200_000

MAX_COORDINATE = 1e12
"""Vertex coordinates beyond this overflow the squared edge lengths and areas cleaning computes (in double)."""
# A face is degenerate when its height is below this fraction of its longest edge: exactly zero area, repeated
# indices, coincident or collinear corners up to float32 rounding. Such a face covers no pixel in any renderer.
_DEGENERATE_RELATIVE_HEIGHT = 1e-6


class MeshError(ValueError):
    """A mesh file or mesh that cannot be used; the message names it, says what is wrong and what to do."""


@dataclass(frozen=True, eq=False)
class Mesh:
    """A triangle mesh normalised into the unit sphere (bounding-box centre at the origin, max radius 1).

    Compared by identity (eq=False): element-wise tensor equality has no single truth value. The tensors are
    ordinary tensors; treat them as read-only, or clone before changing them in place.
    """

    vertices: torch.Tensor
    """(V, 3) float32 on the CPU, normalised coordinates."""
    faces: torch.Tensor
    """(F, 3) int64 vertex indices, no degenerate faces, every vertex used."""
    name: str
    """Display name: the file's stem, or the name given to `mesh_from_trimesh`."""
    normalization: np.ndarray
    """(4, 4) float64 homogeneous transform from the file's (scene-flattened) coordinates to `vertices`;
    `np.linalg.inv(normalization)` maps the mesh back to the file's units and placement."""
    simplified_from: int | None = None
    """Face count before automatic simplification, or None when the mesh was not simplified."""

    @property
    def num_faces(self) -> int:
        return int(self.faces.shape[0])

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    def to_trimesh(self) -> trimesh.Trimesh:
        """A trimesh.Trimesh of the normalised mesh (float64 copy, no processing)."""
        return trimesh.Trimesh(
            vertices=self.vertices.detach().cpu().double().numpy(),
            faces=self.faces.detach().cpu().numpy(),
            process=False,
        )

    def __repr__(self) -> str:
        extra = f", simplified_from={self.simplified_from}" if self.simplified_from is not None else ""
        return f"Mesh(name={self.name!r}, num_vertices={self.num_vertices}, num_faces={self.num_faces}{extra})"


def load_mesh(path: str | os.PathLike, max_faces: int = DEFAULT_MAX_FACES) -> Mesh:
    """Load a triangle mesh from an OBJ, PLY, STL, OFF, GLB or GLTF file.

    Scenes are flattened into one mesh with every part's scene-graph transform applied; non-mesh geometry (point
    clouds, paths) is ignored. Quads and polygons are triangulated by trimesh. Exactly coincident vertices are
    merged; degenerate faces and unused vertices are removed silently as long as some good faces remain.

    Meshes with more than `max_faces` faces are simplified automatically by quadric decimation
    (`trimesh.Trimesh.simplify_quadric_decimation`, backed by `fast_simplification`) down to at most `max_faces`
    faces; `Mesh.simplified_from` then records the face count before simplification. Where the decimator stalls
    above the target (meshes made of slivers), vertices are clustered on a grid instead. Measured on a busy
    2-core CPU: a 2-million-face binary PLY loads and simplifies in about 8 s, a 2.6-million-face OBJ in about
    25 s, most of it trimesh's OBJ parser.

    The result is normalised into the unit sphere; `Mesh.normalization` maps the file's coordinates to it.

    Raises MeshError (one line naming the file) for a missing file, a directory, an unsupported extension, a file
    that cannot be parsed as a mesh, a mesh without faces, non-finite vertex coordinates, or only degenerate faces.
    """
    _check_max_faces(max_faces)
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise MeshError(f"mesh file {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise MeshError(f"{str(path)!r} is a directory, not a mesh file; pass the path of a mesh file inside it")
    if suffix not in SUPPORTED_EXTENSIONS:
        shown = suffix if suffix else "no extension"
        raise MeshError(
            f"mesh file {path.name!r} has an unsupported format ({shown}); "
            f"convert it to one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )

    kwargs: dict = {"process": False}
    if suffix == ".obj":
        # Materials and textures are never used; skipping them avoids decoding images and splitting vertices at
        # UV seams.
        kwargs["skip_materials"] = True
    try:
        loaded = trimesh.load_scene(str(path), **kwargs)
        vertices, faces = _flatten(loaded)
    except MeshError:
        raise
    except Exception as exc:  # noqa: BLE001 - trimesh raises anything from ValueError to ModuleNotFoundError
        raise MeshError(
            f"could not read {path.name!r} as {suffix[1:].upper()} ({_describe_failure(exc, suffix)}); check that it "
            f"is a valid {suffix[1:].upper()} mesh file, e.g. by opening it in a mesh viewer or re-exporting it"
        ) from None
    return _build(vertices, faces, name=path.stem, label=path.name, max_faces=max_faces)


def mesh_from_trimesh(
    tm: trimesh.Trimesh | trimesh.Scene, name: str, max_faces: int = DEFAULT_MAX_FACES
) -> Mesh:
    """The same validation, cleaning, simplification and normalisation as `load_mesh`, for an in-memory mesh.

    A trimesh.Scene is flattened like a loaded file. Errors are MeshError naming `name`.
    """
    _check_max_faces(max_faces)
    if not isinstance(tm, (trimesh.Trimesh, trimesh.Scene)):
        raise TypeError(f"mesh_from_trimesh expects a trimesh.Trimesh or trimesh.Scene, got {type(tm).__name__}")
    vertices, faces = _flatten(tm)
    return _build(vertices, faces, name=name, label=name, max_faces=max_faces)


def stack_meshes(meshes: list[Mesh]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad meshes of different sizes into one batch.

    Returns vertices (B, Vmax, 3) float32 with zero padding rows, faces (B, Fmax, 3) int64 and face_counts (B,)
    int64. Padding faces are (0, 0, 0) on purpose: they are degenerate (zero area) and index an existing vertex,
    so every renderer can process the whole padded batch and draws nothing for them, without masks.
    """
    if len(meshes) == 0:
        raise ValueError("stack_meshes needs at least one mesh")
    v_max = max(m.num_vertices for m in meshes)
    f_max = max(m.num_faces for m in meshes)
    vertices = torch.zeros(len(meshes), v_max, 3, dtype=torch.float32)
    faces = torch.zeros(len(meshes), f_max, 3, dtype=torch.int64)
    for b, mesh in enumerate(meshes):
        vertices[b, : mesh.num_vertices] = mesh.vertices
        faces[b, : mesh.num_faces] = mesh.faces
    face_counts = torch.tensor([m.num_faces for m in meshes], dtype=torch.int64)
    return vertices, faces, face_counts


# --------------------------------------------------------------------------------------------------- internals


def _check_max_faces(max_faces: int) -> None:
    if int(max_faces) < 4:
        raise ValueError(f"max_faces must be at least 4, got {max_faces}")


def _describe_failure(exc: Exception, suffix: str) -> str:
    """A short reason for a parser failure; trimesh's own messages can be cryptic."""
    if isinstance(exc, (ImportError, UnicodeError)):
        # trimesh falls back to charset detection (an optional package) when a text format is not valid UTF-8.
        return "it holds binary data where text was expected"
    if suffix == ".gltf" and isinstance(exc, (FileNotFoundError, KeyError)):
        return "not valid GLTF JSON, or a .bin/texture file it names is missing next to it"
    text = str(exc).strip()
    reason = text.splitlines()[0][:160] if text else "no details"
    return f"{type(exc).__name__}: {reason}"


def _flatten(geometry: trimesh.Trimesh | trimesh.Scene) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) float64 and faces (F, 3) int64 of all triangle meshes, scene transforms applied."""
    if isinstance(geometry, trimesh.Trimesh):
        parts = [(np.asarray(geometry.vertices, dtype=np.float64), np.asarray(geometry.faces))]
    elif isinstance(geometry, trimesh.Scene):
        parts = []
        for node in geometry.graph.nodes_geometry:
            transform, geometry_name = geometry.graph[node]
            part = geometry.geometry.get(geometry_name)
            if not isinstance(part, trimesh.Trimesh) or len(part.faces) == 0:
                continue
            vertices = trimesh.transformations.transform_points(
                np.asarray(part.vertices, dtype=np.float64), np.asarray(transform, dtype=np.float64)
            )
            parts.append((vertices, np.asarray(part.faces)))
    else:
        parts = []
    if not parts:
        return np.zeros((0, 3), np.float64), np.zeros((0, 3), np.int64)
    offsets = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    vertices = np.concatenate([v for v, _ in parts]).reshape(-1, 3)
    faces = np.concatenate([f.astype(np.int64).reshape(-1, 3) + o for (_, f), o in zip(parts, offsets)])
    return vertices, faces


def check_mesh_arrays(vertices: np.ndarray, faces: np.ndarray, label: str) -> None:
    """MeshError (one line naming `label`) unless vertices (V, 3) and faces (F, 3) are numbers, some faces, every
    index a vertex and every coordinate finite: what every mesh passes, read from a file or from arrays."""
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise MeshError(f"{label!r} must have (V, 3) vertices and (F, 3) faces, got {vertices.shape} and {faces.shape}")
    if vertices.dtype.kind not in "iuf" or faces.dtype.kind not in "iu":
        raise MeshError(f"{label!r} must have numeric vertices and integer faces")
    if len(faces) == 0:
        raise MeshError(f"{label!r} contains no triangle faces (empty, or only points/lines); give a surface mesh")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(f"{label!r} has face indices outside its {len(vertices)} vertices; re-export the mesh")
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise MeshError(
            f"{label!r} has {int(bad.sum())} vertices with NaN or infinite coordinates; "
            f"repair or re-export the mesh"
        )
    largest = float(np.abs(vertices).max())
    if largest > MAX_COORDINATE:
        raise MeshError(f"{label!r} has coordinates as large as {largest:.3g}, beyond the limit of +-{MAX_COORDINATE:g} "
                        "(in the file's units); scale the mesh down")


def _build(vertices: np.ndarray, faces: np.ndarray, name: str, label: str, max_faces: int) -> Mesh:
    check_mesh_arrays(vertices, faces, label)
    vertices, faces = _clean(*_merge_coincident(vertices, faces))
    if len(faces) == 0:
        raise MeshError(
            f"{label!r} has only degenerate faces (zero area or repeated vertices); give a mesh with a real surface"
        )

    # Simplify in normalised coordinates: fast_simplification's stopping thresholds are absolute quadric errors,
    # so the same mesh in millimetres or in metres would otherwise be simplified differently.
    normalization = _normalization(vertices)
    vertices = _apply(normalization, vertices)
    simplified_from = None
    if len(faces) > max_faces:
        simplified_from = int(len(faces))
        vertices, faces = _simplify(vertices, faces, max_faces, label)
        refit = _normalization(vertices)
        vertices = _apply(refit, vertices)
        normalization = refit @ normalization

    return Mesh(
        vertices=torch.from_numpy(vertices.astype(np.float32)),
        faces=torch.from_numpy(np.ascontiguousarray(faces, dtype=np.int64)),
        name=name,
        normalization=normalization,
        simplified_from=simplified_from,
    )


def _merge_coincident(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices with exactly equal coordinates (STL triangle soups, seams) so faces share them.

    Decimation needs the connectivity; exact equality is enough because exporters write shared corners with
    identical values. About 1 s per 2 million vertices.
    """
    vertices = vertices + 0.0  # -0.0 -> +0.0 so both sort as one value
    order = np.lexsort(vertices.T[::-1])
    ordered = vertices[order]
    first = np.ones(len(vertices), dtype=bool)
    first[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    if first.all():
        return vertices, faces
    new_index = np.empty(len(vertices), dtype=np.int64)
    new_index[order] = np.cumsum(first) - 1
    return ordered[first], new_index[faces]


def _clean(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop degenerate faces, then vertices no face uses (indices remapped)."""
    corners = vertices[faces]
    e0 = corners[:, 1] - corners[:, 0]
    e1 = corners[:, 2] - corners[:, 0]
    e2 = corners[:, 2] - corners[:, 1]
    cross = np.stack(
        [
            e0[:, 1] * e1[:, 2] - e0[:, 2] * e1[:, 1],
            e0[:, 2] * e1[:, 0] - e0[:, 0] * e1[:, 2],
            e0[:, 0] * e1[:, 1] - e0[:, 1] * e1[:, 0],
        ],
        axis=1,
    )
    twice_area = np.sqrt((cross * cross).sum(1))
    longest_sq = np.maximum(np.maximum((e0 * e0).sum(1), (e1 * e1).sum(1)), (e2 * e2).sum(1))
    # twice_area = longest * height, so this compares the height with the longest edge without a square root.
    keep = twice_area > _DEGENERATE_RELATIVE_HEIGHT * longest_sq
    faces = faces[keep]
    used = np.zeros(len(vertices), dtype=bool)
    used[faces.ravel()] = True
    if used.all():
        return vertices, faces
    new_index = np.cumsum(used) - 1
    return vertices[used], new_index[faces]


def _normalization(vertices: np.ndarray) -> np.ndarray:
    """4x4 transform putting the bounding-box centre at the origin and the farthest vertex at distance 1."""
    centre = 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    radius = float(np.sqrt(((vertices - centre) ** 2).sum(axis=1).max()))
    scale = 1.0 / radius  # radius > 0: a non-degenerate face exists
    transform = np.eye(4)
    transform[:3, :3] *= scale
    transform[:3, 3] = -scale * centre
    return transform


def _apply(transform: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    return vertices @ transform[:3, :3].T + transform[:3, 3]


def _simplify(vertices: np.ndarray, faces: np.ndarray, max_faces: int, label: str) -> tuple[np.ndarray, np.ndarray]:
    """At most max_faces faces: quadric decimation, or vertex clustering where the decimator stalls.

    fast_simplification stops after a fixed number of passes with a growing error threshold. On some meshes it
    stalls far above the target and damages the surface on the way (measured: a 2M-face UV sphere, whose poles
    are fans of slivers, stops at 63k faces for any target below that, whatever the aggression, with part of the
    sphere gone). Then the original mesh is clustered on a grid instead, which always reaches the target; coarse
    but faithful, which is what silhouettes need.
    """
    try:
        v, f = _quadric(vertices, faces, max_faces)
        if max_faces < len(f) <= 1.1 * max_faces:  # landed just above the target: one more, much cheaper pass
            v, f = _quadric(v, f, max_faces)
        if len(f) > max_faces:
            v, f = _cluster_to(vertices, faces, max_faces)
    except Exception as exc:  # noqa: BLE001
        raise MeshError(
            f"{label!r} has {len(faces)} faces and simplifying it to {max_faces} failed ({type(exc).__name__}: "
            f"{str(exc)[:120]}); simplify it in a mesh editor first"
        ) from None
    if len(f) == 0 or len(f) > max_faces:
        raise MeshError(
            f"{label!r} has {len(faces)} faces and could not be simplified to at most {max_faces}; "
            f"simplify it in a mesh editor first"
        )
    return v, f


def _quadric(vertices: np.ndarray, faces: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    source = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    simple = source.simplify_quadric_decimation(face_count=target)
    return _clean(np.asarray(simple.vertices, dtype=np.float64), np.asarray(simple.faces, dtype=np.int64))


def _cluster_to(vertices: np.ndarray, faces: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """The finest grid clustering found within a few tries that has at most max_faces faces."""
    # Faces of a clustered surface grow roughly with the square of the grid resolution.
    cells = max(2.0, np.sqrt(max_faces) / 2)
    best: tuple[np.ndarray, np.ndarray] | None = None
    for _ in range(12):
        v, f = _cluster(vertices, faces, int(cells))
        if 0 < len(f) <= max_faces and (best is None or len(f) > len(best[1])):
            best = (v, f)
            if len(f) >= 0.7 * max_faces:
                break
        if len(f) > max_faces or best is not None:
            cells *= 0.97 * np.sqrt(max_faces / max(len(f), 1))
        else:
            cells *= 2.0  # everything collapsed: refine
        cells = max(cells, 2.0)
    if best is None:
        raise ValueError("vertex clustering found no grid with few enough faces")
    return best


def _cluster(vertices: np.ndarray, faces: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge all vertices in each cell of a cells^3 grid over the bounding box into their mean."""
    low = vertices.min(axis=0)
    size = max(float((vertices.max(axis=0) - low).max()), 1e-12) / cells
    ijk = np.minimum(((vertices - low) / size).astype(np.int64), cells - 1)
    key = (ijk[:, 0] * cells + ijk[:, 1]) * cells + ijk[:, 2]
    _, cluster = np.unique(key, return_inverse=True)
    cluster = cluster.ravel()
    count = np.bincount(cluster).astype(np.float64)
    merged = np.stack([np.bincount(cluster, weights=vertices[:, k]) for k in range(3)], axis=1) / count[:, None]
    faces = cluster[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    # Several faces can land on the same three clusters; keep one of each.
    ordered = np.sort(faces, axis=1)
    order = np.lexsort(ordered.T[::-1])
    unique = np.ones(len(faces), dtype=bool)
    unique[1:] = np.any(ordered[order[1:]] != ordered[order[:-1]], axis=1)
    return _clean(merged, faces[np.sort(order[unique])])
