"""engine.procedural: determinism, variety, every category, splits."""
from __future__ import annotations

import pytest
import torch

from engine import procedural
from engine.meshes import Mesh
from engine.procedural import (
    CATEGORIES,
    OBJECTS_PER_CATEGORY,
    ObjectSpec,
    default_mesh,
    make_object,
    split_objects,
)


def test_deterministic_per_category_and_index():
    first = make_object("chair", 7)
    procedural._build_cached.cache_clear()
    second = make_object("chair", 7)
    assert first is not second
    assert torch.equal(first.vertices, second.vertices)
    assert torch.equal(first.faces, second.faces)


def test_different_index_gives_different_mesh():
    a, b = make_object("car", 1), make_object("car", 2)
    assert a.vertices.shape != b.vertices.shape or not torch.allclose(a.vertices, b.vertices)


def test_returned_mesh_is_a_copy():
    mesh = make_object("lamp", 3)
    mesh.vertices.zero_()
    assert make_object("lamp", 3).vertices.abs().max() > 0.5


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_builds(category):
    for index in (0, 1):
        mesh = make_object(category, index)
        assert isinstance(mesh, Mesh)
        assert mesh.name == f"{category}-{index:03d}"
        assert 100 <= mesh.num_faces <= 5000
        assert float(mesh.vertices.norm(dim=1).max()) == pytest.approx(1.0, abs=1e-5)
        assert mesh.simplified_from is None


def test_object_spec():
    spec = ObjectSpec("chair", 7)
    assert spec.name == "chair-007"
    assert torch.equal(spec.build().vertices, make_object("chair", 7).vertices)


def test_splits():
    splits = {name: split_objects(name) for name in ("train", "val", "test")}
    assert {k: len(v) for k, v in splits.items()} == {"train": 350, "val": 50, "test": 100}
    sets = {k: set(v) for k, v in splits.items()}
    assert not sets["train"] & sets["val"] and not sets["train"] & sets["test"] and not sets["val"] & sets["test"]
    everything = sets["train"] | sets["val"] | sets["test"]
    assert everything == {ObjectSpec(c, i) for c in CATEGORIES for i in range(OBJECTS_PER_CATEGORY)}
    for category in CATEGORIES:
        assert sum(s.category == category for s in splits["test"]) == 10
    assert split_objects("test") == splits["test"]  # stable


def test_default_mesh_is_a_test_car():
    mesh = default_mesh()
    assert mesh.name.startswith("car-")
    assert ObjectSpec("car", int(mesh.name.split("-")[1])) in split_objects("test")


def test_bad_split():
    with pytest.raises(ValueError, match="train, val, test"):
        split_objects("validation")


def test_bad_category():
    with pytest.raises(ValueError, match="valid categories are car, plane"):
        make_object("boat", 0)
    with pytest.raises(ValueError, match="valid categories"):
        ObjectSpec("boat", 0)


def test_bad_index():
    with pytest.raises(ValueError, match="non-negative"):
        make_object("car", -1)
