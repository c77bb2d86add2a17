"""A procedural object set standing in for ShapeNet, which cannot be downloaded here.

Ten categories of man-made objects, each object assembled from trimesh primitives (boxes, cylinders, capsules,
spheres, cones and frusta) with proportions and part variants drawn from a numpy Generator seeded from
(category, index): the same (category, index) always gives the identical mesh (given the same numpy and trimesh
versions; the seed does not depend on Python's salted str hash). Parts are simply concatenated; they overlap,
which is harmless because only silhouettes and depth are rendered. Long edges are then split, giving about 250 to
2,700 faces per object (median about 870), built in about 10 ms each.

Object frame before normalisation: metres, +y up, the object's front (car and plane nose, where one sits on a
chair, bench, sofa or bed foot, a cabinet's doors, a monitor's screen, a desk lamp's reach) towards +z, so a camera
on the +z axis looking down -z sees it from the front. Every mesh then goes through `mesh_from_trimesh`, so it is
normalised into the unit sphere like a loaded file.

Each category has `OBJECTS_PER_CATEGORY` objects, split 35/5/10 into train/val/test by a fixed per-category
permutation.
"""
from __future__ import annotations

import functools
import math
import os
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import trimesh

from engine.meshes import SUPPORTED_EXTENSIONS, Mesh, MeshError, load_mesh, mesh_from_trimesh

CATEGORIES = ("car", "plane", "chair", "bench", "table", "sofa", "cabinet", "bed", "monitor", "lamp")
OBJECTS_PER_CATEGORY = 50
SPLITS = ("train", "val", "test")
_SPLIT_SIZES = {"train": 35, "val": 5, "test": 10}

_SECTIONS = 20  # segments around cylinders/cones: round enough at 256 px, cheap in faces
_MAX_EDGE = 0.35  # longest edge after subdivision, as a fraction of the object's bounding radius


@dataclass(frozen=True)
class ObjectSpec:
    """One object of the procedural set, identified by category and index."""

    category: str
    index: int

    def __post_init__(self) -> None:
        _check_category(self.category)
        _check_index(self.index)

    @property
    def name(self) -> str:
        """E.g. "chair-007"."""
        return f"{self.category}-{self.index:03d}"

    def build(self) -> Mesh:
        """The normalised mesh (built once per process, then copied from a cache)."""
        return make_object(self.category, self.index)


def make_object(category: str, index: int) -> Mesh:
    """The mesh of object `index` of `category`; identical for identical arguments.

    Any index >= 0 works; indices 0..OBJECTS_PER_CATEGORY-1 form the train/val/test splits.
    """
    _check_category(category)
    _check_index(index)
    cached = _build_cached(category, int(index))
    # A copy, so a caller changing tensors in place cannot corrupt the cache.
    return Mesh(
        vertices=cached.vertices.clone(),
        faces=cached.faces.clone(),
        name=cached.name,
        normalization=cached.normalization.copy(),
        simplified_from=cached.simplified_from,
    )


def split_objects(split: str) -> list[ObjectSpec]:
    """The objects of one split ("train", "val" or "test"), ordered by category then index.

    Per category, indices 0..49 are permuted with a fixed seed and the first 35 go to train, the next 5 to val and
    the last 10 to test, so the splits are disjoint and stable across runs and machines.
    """
    if split not in _SPLIT_SIZES:
        raise ValueError(f"unknown split {split!r}; valid splits are {', '.join(SPLITS)}")
    start = 0
    for name in SPLITS:
        if name == split:
            break
        start += _SPLIT_SIZES[name]
    stop = start + _SPLIT_SIZES[split]
    specs = []
    for category in CATEGORIES:
        order = _generator(category, "split").permutation(OBJECTS_PER_CATEGORY)
        specs.extend(ObjectSpec(category, int(i)) for i in sorted(order[start:stop]))
    return specs


def default_mesh() -> Mesh:
    """The built-in object used when the user gives no mesh: the first car of the test split."""
    spec = next(s for s in split_objects("test") if s.category == "car")
    return spec.build()


def load_mesh_set(spec: str | None, split: str = "test") -> list[Mesh]:
    """Meshes for a benchmark: comma-separated files and/or directories (every supported mesh inside), or the
    procedural split when spec is None."""
    if spec is None:
        return [obj.build() for obj in split_objects(split)]
    paths: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if os.path.isdir(part):
            found = sorted(os.path.join(part, name) for name in os.listdir(part)
                           if name.lower().endswith(SUPPORTED_EXTENSIONS))
            if not found:
                raise MeshError(f"{part}: no {', '.join(SUPPORTED_EXTENSIONS)} meshes in this directory")
            paths.extend(found)
        else:
            paths.append(part)
    return [load_mesh(path) for path in paths]


def training_mesh_sets(spec: str | None) -> tuple[list[Mesh], list[Mesh]]:
    """Training and validation meshes of a `train PROBLEM --meshes` flag: the files' last tenth (at least one)
    held out for validation, or the procedural train and val splits when spec is None or empty."""
    if not spec:
        return load_mesh_set(None, "train"), load_mesh_set(None, "val")
    meshes = load_mesh_set(spec)
    if len(meshes) < 2:
        raise ValueError(f"--meshes {spec}: need at least two meshes (one is held out for validation)")
    held_out = max(1, len(meshes) // 10)
    return meshes[:-held_out], meshes[-held_out:]


def cycled_meshes(meshes: list[Mesh], n: int, generator: torch.Generator) -> list[Mesh]:
    """n meshes for a benchmark's problems: the set in an order shuffled by `generator`, repeated as needed."""
    order = torch.randperm(len(meshes), generator=generator).tolist()
    return [meshes[order[i % len(meshes)]] for i in range(n)]


# --------------------------------------------------------------------------------------------------- internals


def resolve_mesh(spec: str | None) -> Mesh:
    """A mesh file path, a procedural object name ('chair-7'), or the default object (None)."""
    if spec is None:
        return default_mesh()
    category, _, index = spec.rpartition("-")
    if not os.path.exists(spec) and index.isdigit() and category:
        try:
            return ObjectSpec(category, int(index)).build()
        except ValueError:
            pass
    return load_mesh(spec)


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"unknown object category {category!r}; valid categories are {', '.join(CATEGORIES)}")


def _check_index(index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"object index must be a non-negative integer, got {index!r}")


def _generator(category: str, purpose: str, index: int = 0) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process.
    entropy = [zlib.crc32(category.encode()), zlib.crc32(purpose.encode()), int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


@functools.lru_cache(maxsize=1024)
def _build_cached(category: str, index: int) -> Mesh:
    rng = _generator(category, "object", index)
    parts = _BUILDERS[category](rng)
    mesh = trimesh.util.concatenate(parts)
    # Split long edges so triangles have similar sizes (a box would otherwise be 12 triangles as large as the
    # object): renderers that bin faces by bounding box, and problems that move vertices, behave better.
    radius = 0.5 * float(np.linalg.norm(mesh.extents))
    vertices, faces = trimesh.remesh.subdivide_to_size(
        mesh.vertices, mesh.faces, max_edge=_MAX_EDGE * radius, max_iter=8
    )
    return mesh_from_trimesh(trimesh.Trimesh(vertices, faces, process=False), name=f"{category}-{index:03d}")


# ------------------------------------------------------------------------------------------------- primitives

_AXES = {
    "x": trimesh.transformations.rotation_matrix(math.pi / 2, [0, 1, 0]),
    "y": trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0]),
    "z": np.eye(4),
}


def _placed(mesh: trimesh.Trimesh, centre, axis: str = "z") -> trimesh.Trimesh:
    """Turn a primitive built along z so it runs along `axis`, then move its centre to `centre`."""
    transform = _AXES[axis].copy()
    transform[:3, 3] = centre
    return mesh.apply_transform(transform)


def _box(extents, centre) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=extents).apply_translation(centre)


def _cylinder(radius: float, length: float, centre, axis: str = "y") -> trimesh.Trimesh:
    return _placed(trimesh.creation.cylinder(radius=radius, height=length, sections=_SECTIONS), centre, axis)


def _frustum(r_start: float, r_end: float, length: float, centre, axis: str = "y") -> trimesh.Trimesh:
    """A truncated cone: radius r_start at the low end of `axis`, r_end at the high end."""
    mesh = trimesh.creation.cylinder(radius=r_start, height=length, sections=_SECTIONS)
    top = mesh.vertices[:, 2] > 0
    mesh.vertices[top, :2] *= r_end / r_start
    return _placed(mesh, centre, axis)


def _capsule(radius: float, length: float, centre, axis: str = "z") -> trimesh.Trimesh:
    """A capsule whose total length (caps included) is `length`."""
    body = max(length - 2 * radius, 1e-3)
    return _placed(trimesh.creation.capsule(height=body, radius=radius, count=[16, 8]), centre, axis)


def _sphere(radius: float, centre, scale=(1.0, 1.0, 1.0)) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    mesh.vertices *= np.asarray(scale, dtype=np.float64)
    return mesh.apply_translation(centre)


def _cone(radius: float, length: float, base_centre, transform: np.ndarray | None = None) -> trimesh.Trimesh:
    """A cone with its base at the origin and apex at +z (before `transform`), then moved to base_centre."""
    mesh = trimesh.creation.cone(radius=radius, height=length, sections=_SECTIONS)
    if transform is not None:
        mesh.apply_transform(transform)
    return mesh.apply_translation(base_centre)


def _shear(mesh: trimesh.Trimesh, target: int, source: int, factor: float) -> trimesh.Trimesh:
    """coordinate[target] += factor * coordinate[source] (sweeps wings and fins)."""
    matrix = np.eye(4)
    matrix[target, source] = factor
    return mesh.apply_transform(matrix)


def _rotated(mesh: trimesh.Trimesh, angle: float, axis, point) -> trimesh.Trimesh:
    return mesh.apply_transform(trimesh.transformations.rotation_matrix(angle, axis, point))


def _legs(xs, zs, top: float, thickness: float, round_legs: bool) -> list[trimesh.Trimesh]:
    """Vertical legs from the floor (y = 0) to height `top` at every (x, z)."""
    legs = []
    for x in xs:
        for z in zs:
            if round_legs:
                legs.append(_cylinder(thickness / 2, top, (x, top / 2, z)))
            else:
                legs.append(_box((thickness, top, thickness), (x, top / 2, z)))
    return legs


# --------------------------------------------------------------------------------------------------- categories


def _car(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    length = rng.uniform(3.6, 5.0)
    width = rng.uniform(1.6, 2.0)
    body_h = rng.uniform(0.45, 0.8)
    wheel_r = rng.uniform(0.28, 0.42)
    clearance = wheel_r * rng.uniform(0.45, 0.8)
    body_y = clearance + body_h / 2
    parts = [_box((width, body_h, length), (0, body_y, 0))]

    # Cabin: sedans have a short cabin set back, vans and SUVs a long, tall one; its top is narrowed along z to
    # slope the windscreen and rear window.
    cabin_len = length * rng.uniform(0.35, 0.75)
    cabin_h = rng.uniform(0.35, 0.7)
    cabin_z = -length * rng.uniform(0.0, 0.5) * (1 - cabin_len / length)
    cabin = _box((width * rng.uniform(0.8, 0.95), cabin_h, cabin_len), (0, 0, 0))
    top = cabin.vertices[:, 1] > 0
    cabin.vertices[top, 2] *= rng.uniform(0.55, 0.95)
    parts.append(cabin.apply_translation((0, clearance + body_h + cabin_h / 2, cabin_z)))

    wheelbase = length * rng.uniform(0.55, 0.72)
    tyre = rng.uniform(0.18, 0.3)
    for x in (-1, 1):
        for z in (-1, 1):
            centre = (x * (width / 2 - tyre * 0.3), wheel_r, z * wheelbase / 2 + length * rng.uniform(-0.02, 0.02))
            parts.append(_cylinder(wheel_r, tyre, centre, axis="x"))
    if rng.random() < 0.25:  # rear spoiler
        wing_y = clearance + body_h + rng.uniform(0.1, 0.25)
        parts.append(_box((width * 0.9, 0.04, 0.25), (0, wing_y, -length / 2 + 0.15)))
        for x in (-0.3, 0.3):
            parts.append(_box((0.05, wing_y - body_y, 0.08), (x * width, (wing_y + body_y) / 2, -length / 2 + 0.15)))
    return parts


def _plane(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    fuselage = rng.uniform(7.0, 12.0)
    radius = fuselage * rng.uniform(0.04, 0.07)
    parts = [_capsule(radius, fuselage, (0, 0, 0), axis="z")]
    if rng.random() < 0.5:  # pointed nose cone
        parts.append(_cone(radius * 0.95, radius * rng.uniform(1.0, 2.5), (0, 0, fuselage / 2 - radius)))

    span = fuselage * rng.uniform(0.8, 1.3)
    chord = fuselage * rng.uniform(0.1, 0.2)
    sweep = math.tan(math.radians(rng.uniform(0.0, 40.0)))
    wing_z = fuselage * rng.uniform(-0.05, 0.15)
    wing_y = radius * rng.uniform(-0.6, 0.5)
    thickness = radius * 0.25
    taper = rng.uniform(0.35, 1.0)
    for side in (-1, 1):
        wing = _box((span / 2, thickness, chord), (side * span / 4, 0, 0))
        tip = np.abs(wing.vertices[:, 0]) > span / 4
        wing.vertices[tip, 2] *= taper
        _shear(wing, 2, 0, -side * sweep)  # tips further back
        parts.append(wing.apply_translation((0, wing_y, wing_z)))

    n_engines = int(rng.choice([0, 2, 4], p=[0.35, 0.45, 0.2]))
    engine_r = radius * rng.uniform(0.3, 0.5)
    for k in range(n_engines // 2):
        offset = span * (0.18 + 0.15 * k)
        for side in (-1, 1):
            z = wing_z + chord * 0.3 - offset * sweep
            parts.append(_cylinder(engine_r, chord * 1.1, (side * offset, wing_y - engine_r * 1.2, z), axis="z"))

    tail_z = -fuselage / 2 + radius
    stab_span = span * rng.uniform(0.28, 0.45)
    stab_chord = chord * rng.uniform(0.5, 0.8)
    for side in (-1, 1):
        stab = _box((stab_span / 2, thickness * 0.8, stab_chord), (side * stab_span / 4, 0, 0))
        _shear(stab, 2, 0, -side * sweep)
        parts.append(stab.apply_translation((0, radius * 0.3, tail_z + stab_chord * 0.5)))
    fin_h = radius * rng.uniform(2.0, 4.0)
    fin = _box((thickness, fin_h, stab_chord * 1.2), (0, fin_h / 2, 0))
    _shear(fin, 2, 1, -rng.uniform(0.3, 1.0))
    parts.append(fin.apply_translation((0, radius * 0.6, tail_z + stab_chord * 0.6)))
    return parts


def _chair(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    width = rng.uniform(0.4, 0.6)
    depth = rng.uniform(0.4, 0.6)
    seat_t = rng.uniform(0.03, 0.1)
    seat_h = rng.uniform(0.4, 0.52)
    parts = [_box((width, seat_t, depth), (0, seat_h - seat_t / 2, 0))]
    leg_t = rng.uniform(0.025, 0.06)
    inset = rng.uniform(0.0, 0.06)
    xs = (-width / 2 + leg_t / 2 + inset, width / 2 - leg_t / 2 - inset)
    zs = (-depth / 2 + leg_t / 2 + inset, depth / 2 - leg_t / 2 - inset)
    parts += _legs(xs, zs, seat_h - seat_t, leg_t, rng.random() < 0.5)

    back_h = rng.uniform(0.3, 0.65)
    back_t = rng.uniform(0.025, 0.07)
    back = _box((width * rng.uniform(0.85, 1.0), back_h, back_t), (0, seat_h + back_h / 2, -depth / 2 + back_t / 2))
    _rotated(back, -math.radians(rng.uniform(0.0, 15.0)), [1, 0, 0], [0, seat_h, -depth / 2])
    parts.append(back)
    if rng.random() < 0.35:  # armrests on posts
        arm_h = rng.uniform(0.18, 0.28)
        for side in (-1, 1):
            x = side * (width / 2 - 0.02)
            parts.append(_box((0.05, 0.03, depth * 0.85), (x, seat_h + arm_h, -depth * 0.05)))
            parts.append(_box((0.03, arm_h, 0.03), (x, seat_h + arm_h / 2, depth * 0.3)))
    return parts


def _bench(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    length = rng.uniform(1.1, 2.2)
    depth = rng.uniform(0.3, 0.55)
    seat_t = rng.uniform(0.04, 0.1)
    seat_h = rng.uniform(0.38, 0.5)
    parts = [_box((length, seat_t, depth), (0, seat_h - seat_t / 2, 0))]
    if rng.random() < 0.4:  # two slab ends
        slab_t = rng.uniform(0.04, 0.1)
        for side in (-1, 1):
            x = side * (length / 2 - slab_t / 2 - rng.uniform(0.0, 0.15))
            parts.append(_box((slab_t, seat_h - seat_t, depth * 0.9), (x, (seat_h - seat_t) / 2, 0)))
    else:
        leg_t = rng.uniform(0.04, 0.08)
        xs = [-length / 2 + leg_t, length / 2 - leg_t] + ([0.0] if length > 1.6 else [])
        zs = (-depth / 2 + leg_t, depth / 2 - leg_t)
        parts += _legs(xs, zs, seat_h - seat_t, leg_t, rng.random() < 0.5)
    if rng.random() < 0.55:  # backrest of slats on posts
        back_h = rng.uniform(0.3, 0.5)
        n_slats = int(rng.integers(1, 4))
        slat_h = back_h / (2 * n_slats)
        for k in range(n_slats):
            y = seat_h + back_h - slat_h / 2 - 2 * k * slat_h
            parts.append(_box((length, slat_h, 0.03), (0, y, -depth / 2 + 0.02)))
        for side in (-1, 1):
            parts.append(_box((0.05, back_h, 0.04), (side * (length / 2 - 0.05), seat_h + back_h / 2, -depth / 2 + 0.02)))
    return parts


def _table(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    height = rng.uniform(0.45, 0.8)  # coffee tables to dining tables
    top_t = rng.uniform(0.025, 0.07)
    round_top = rng.random() < 0.3
    if round_top:
        radius = rng.uniform(0.4, 0.7)
        parts = [_cylinder(radius, top_t, (0, height - top_t / 2, 0))]
        pole_r = rng.uniform(0.03, 0.08)
        parts.append(_cylinder(pole_r, height - top_t, (0, (height - top_t) / 2, 0)))
        if rng.random() < 0.5:
            parts.append(_cylinder(radius * rng.uniform(0.4, 0.7), 0.04, (0, 0.02, 0)))
        else:
            for angle in (0.0, math.pi / 2):
                foot = _box((radius * 1.2, 0.04, 0.06), (0, 0.02, 0))
                parts.append(_rotated(foot, angle, [0, 1, 0], [0, 0, 0]))
        return parts
    length = rng.uniform(0.8, 2.0)
    width = rng.uniform(0.5, 1.0)
    parts = [_box((length, top_t, width), (0, height - top_t / 2, 0))]
    leg_t = rng.uniform(0.03, 0.09)
    inset = rng.uniform(0.0, 0.1)
    xs = (-length / 2 + leg_t / 2 + inset, length / 2 - leg_t / 2 - inset)
    zs = (-width / 2 + leg_t / 2 + inset, width / 2 - leg_t / 2 - inset)
    parts += _legs(xs, zs, height - top_t, leg_t, rng.random() < 0.4)
    if rng.random() < 0.5:  # apron under the top
        apron_h = rng.uniform(0.05, 0.12)
        y = height - top_t - apron_h / 2
        parts.append(_box((xs[1] - xs[0], apron_h, 0.02), (0, y, zs[0])))
        parts.append(_box((xs[1] - xs[0], apron_h, 0.02), (0, y, zs[1])))
    if rng.random() < 0.25:  # lower shelf
        parts.append(_box((xs[1] - xs[0], 0.02, zs[1] - zs[0]), (0, height * rng.uniform(0.15, 0.3), 0)))
    return parts


def _sofa(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    width = rng.uniform(1.4, 2.6)
    depth = rng.uniform(0.8, 1.05)
    leg_h = rng.uniform(0.03, 0.15)
    seat_h = rng.uniform(0.38, 0.48)
    arm_w = rng.uniform(0.1, 0.25)
    arm_h = rng.uniform(0.55, 0.72)
    back_h = rng.uniform(0.75, 0.95)
    back_t = rng.uniform(0.15, 0.28)
    base_h = seat_h * 0.6 - leg_h
    parts = [_box((width, base_h, depth), (0, leg_h + base_h / 2, 0))]
    inner = width - 2 * arm_w
    n_cushions = int(rng.integers(1, 4))
    cushion_h = seat_h - leg_h - base_h
    for k in range(n_cushions):
        w = inner / n_cushions
        x = -inner / 2 + w * (k + 0.5)
        parts.append(_box((w * 0.97, cushion_h, depth - back_t), (x, leg_h + base_h + cushion_h / 2, back_t / 2)))
    back = _box((width, back_h - leg_h, back_t), (0, leg_h + (back_h - leg_h) / 2, -depth / 2 + back_t / 2))
    _rotated(back, -math.radians(rng.uniform(0.0, 10.0)), [1, 0, 0], [0, leg_h, -depth / 2])
    parts.append(back)
    for side in (-1, 1):
        parts.append(_box((arm_w, arm_h - leg_h, depth), (side * (width - arm_w) / 2, leg_h + (arm_h - leg_h) / 2, 0)))
    if rng.random() < 0.2:  # chaise extension on one side
        side = rng.choice([-1, 1])
        ext = rng.uniform(0.5, 0.8)
        parts.append(_box((inner / 2, seat_h - leg_h, ext), (side * inner / 4, leg_h + (seat_h - leg_h) / 2, depth / 2 + ext / 2)))
    if leg_h > 0.05:
        for x in (-1, 1):
            for z in (-1, 1):
                parts.append(_cylinder(0.025, leg_h, (x * (width / 2 - 0.06), leg_h / 2, z * (depth / 2 - 0.06))))
    return parts


def _cabinet(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    width = rng.uniform(0.45, 1.4)
    height = rng.uniform(0.6, 2.0)
    depth = rng.uniform(0.35, 0.65)
    plinth = rng.uniform(0.0, 0.15)
    body_h = height - plinth
    parts = [_box((width, body_h, depth), (0, plinth + body_h / 2, 0))]
    if plinth > 0.04:
        if rng.random() < 0.5:
            parts.append(_box((width * 0.95, plinth, depth * 0.9), (0, plinth / 2, -depth * 0.02)))
        else:
            parts += _legs((-width / 2 + 0.04, width / 2 - 0.04), (-depth / 2 + 0.04, depth / 2 - 0.04), plinth, 0.04, True)
    if rng.random() < 0.5:  # overhanging top
        over = rng.uniform(0.01, 0.05)
        parts.append(_box((width + 2 * over, 0.03, depth + over), (0, height + 0.015, over / 2)))
    # Doors (vertical handles) or drawers (horizontal handles) on the front face.
    front = depth / 2
    if rng.random() < 0.5:
        n_doors = int(rng.integers(1, 4))
        for k in range(n_doors):
            x = -width / 2 + width * (k + 0.5) / n_doors
            parts.append(_box((width / n_doors * 0.94, body_h * 0.94, 0.02), (x, plinth + body_h / 2, front + 0.01)))
            hx = x + (width / n_doors) * 0.38 * (1 if k % 2 else -1)
            parts.append(_box((0.02, min(0.2, body_h * 0.3), 0.03), (hx, plinth + body_h * 0.55, front + 0.035)))
    else:
        n_drawers = int(rng.integers(2, 6))
        for k in range(n_drawers):
            y = plinth + body_h * (k + 0.5) / n_drawers
            parts.append(_box((width * 0.94, body_h / n_drawers * 0.9, 0.02), (0, y, front + 0.01)))
            parts.append(_box((min(0.25, width * 0.4), 0.02, 0.03), (0, y, front + 0.035)))
    return parts


def _bed(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    width = rng.uniform(0.9, 2.0)
    length = rng.uniform(1.9, 2.2)
    leg_h = rng.uniform(0.05, 0.25)
    frame_h = rng.uniform(0.12, 0.3)
    mattress_h = rng.uniform(0.15, 0.3)
    parts = [_box((width, frame_h, length), (0, leg_h + frame_h / 2, 0))]
    top = leg_h + frame_h
    parts.append(_box((width * 0.96, mattress_h, length * 0.97), (0, top + mattress_h / 2, 0)))
    board_t = rng.uniform(0.04, 0.1)
    head_h = rng.uniform(0.8, 1.4)
    parts.append(_box((width + 2 * board_t, head_h, board_t), (0, head_h / 2, -length / 2 - board_t / 2)))
    if rng.random() < 0.5:
        foot_h = rng.uniform(top + 0.05, top + mattress_h + 0.25)
        parts.append(_box((width + 2 * board_t, foot_h, board_t), (0, foot_h / 2, length / 2 + board_t / 2)))
    parts += _legs((-width / 2 + 0.04, width / 2 - 0.04), (-length / 2 + 0.04, length / 2 - 0.04), leg_h, 0.06, rng.random() < 0.5)
    n_pillows = 1 if width < 1.3 else 2
    pillow_y = top + mattress_h + 0.06
    for k in range(n_pillows):
        x = 0.0 if n_pillows == 1 else (k - 0.5) * width * 0.48
        parts.append(_sphere(1.0, (x, pillow_y, -length / 2 + 0.3), scale=(width * 0.2, 0.08, 0.18)))
    return parts


def _monitor(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    width = rng.uniform(0.45, 0.8)
    aspect = rng.choice([16 / 9, 16 / 10, 4 / 3, 21 / 9])
    screen_h = width / aspect
    thickness = rng.uniform(0.02, 0.06)
    neck_h = rng.uniform(0.06, 0.2)
    base_t = 0.02
    screen_y = base_t + neck_h + screen_h / 2
    tilt = math.radians(rng.uniform(-3.0, 12.0))
    parts = []
    screen = _box((width, screen_h, thickness), (0, screen_y, 0))
    if rng.random() < 0.3:  # a deep housing behind the panel (CRT / older LCD), narrowing towards the back
        housing_d = width * rng.uniform(0.25, 0.55)
        housing = _box((width * 0.85, screen_h * 0.85, housing_d), (0, 0, 0))
        back = housing.vertices[:, 2] < 0
        housing.vertices[back, :2] *= rng.uniform(0.45, 0.75)
        parts.append(housing.apply_translation((0, screen_y, -thickness / 2 - housing_d / 2)))
    parts.append(screen)
    neck_z = -thickness / 2 - 0.02
    parts.append(_box((rng.uniform(0.04, 0.1), neck_h + screen_h * 0.4, 0.03), (0, base_t + (neck_h + screen_h * 0.4) / 2, neck_z)))
    for part in parts:
        _rotated(part, -tilt, [1, 0, 0], [0, screen_y, neck_z])
    if rng.random() < 0.5:
        parts.append(_box((width * rng.uniform(0.3, 0.5), base_t, rng.uniform(0.15, 0.25)), (0, base_t / 2, neck_z + 0.03)))
    else:
        parts.append(_cylinder(rng.uniform(0.08, 0.14), base_t, (0, base_t / 2, neck_z + 0.03)))
    return parts


def _lamp(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    base_r = rng.uniform(0.08, 0.2)
    base_t = rng.uniform(0.02, 0.06)
    pole_r = rng.uniform(0.008, 0.02)
    parts = [_cylinder(base_r, base_t, (0, base_t / 2, 0))]
    if rng.random() < 0.6:  # table or floor lamp: straight pole, shade on top
        pole_h = rng.uniform(0.3, 1.6)
        parts.append(_cylinder(pole_r, pole_h, (0, base_t + pole_h / 2, 0)))
        shade_h = rng.uniform(0.15, 0.4)
        r_low = rng.uniform(0.12, 0.3)
        r_high = r_low * rng.uniform(0.45, 1.0)
        top = base_t + pole_h
        parts.append(_frustum(r_low, r_high, shade_h, (0, top - shade_h * 0.3, 0), axis="y"))
        if rng.random() < 0.5:
            parts.append(_sphere(min(r_high, 0.06), (0, top - shade_h * 0.75, 0)))
        return parts
    # Desk lamp: an arm leaning back, a forearm reaching forward (+z), a cone shade pointing down and forward.
    lower = rng.uniform(0.25, 0.45)
    upper = rng.uniform(0.25, 0.45)
    lean = math.radians(rng.uniform(5.0, 30.0))
    reach = math.radians(rng.uniform(20.0, 70.0))
    elbow = np.array([0.0, base_t + lower * math.cos(lean), -lower * math.sin(lean)])
    hand = elbow + np.array([0.0, upper * math.cos(reach), upper * math.sin(reach)])
    for start, end in ((np.array([0.0, base_t, 0.0]), elbow), (elbow, hand)):
        segment = trimesh.creation.cylinder(radius=pole_r, segment=np.stack([start, end]), sections=_SECTIONS)
        parts.append(segment)
    parts.append(_sphere(pole_r * 2.0, elbow))
    shade_len = rng.uniform(0.12, 0.22)
    shade_r = rng.uniform(0.07, 0.14)
    aim = math.radians(rng.uniform(20.0, 60.0))  # down from horizontal, towards +z
    direction = np.array([0.0, -math.sin(aim), math.cos(aim)])
    # Cone apex at the hand, opening along `direction`: build apex at +z, flip, then turn +z onto `direction`.
    flip = trimesh.transformations.rotation_matrix(math.pi, [1, 0, 0])
    align = trimesh.geometry.align_vectors([0, 0, 1], direction)
    shade = _cone(shade_r, shade_len, (0, 0, 0), align @ flip @ trimesh.transformations.translation_matrix([0, 0, -shade_len]))
    parts.append(shade.apply_translation(hand))
    return parts


_BUILDERS: dict[str, Callable[[np.random.Generator], list[trimesh.Trimesh]]] = {
    "car": _car,
    "plane": _plane,
    "chair": _chair,
    "bench": _bench,
    "table": _table,
    "sofa": _sofa,
    "cabinet": _cabinet,
    "bed": _bed,
    "monitor": _monitor,
    "lamp": _lamp,
}
assert set(_BUILDERS) == set(CATEGORIES)
