import numpy as np
import pytest
import torch

from engine.procedural import make_object
from engine.shape_variety import DEFORMATIONS, deformed_mesh, shape_variants


def meshes():
    return [make_object("chair", 0), make_object("lamp", 1)]


def test_variants_per_mesh_named_and_normalised():
    variants = shape_variants(meshes(), 3, seed=0)
    assert [v.name for v in variants] == [f"{name}~{k}" for name in ("chair-000", "lamp-001") for k in range(3)]
    for variant in variants:
        radius = variant.vertices.norm(dim=1).max()
        assert radius == pytest.approx(1.0, abs=1e-4)
        assert variant.faces.max() < variant.num_vertices


def test_variants_are_deterministic_per_seed_and_differ_between_seeds():
    first, again, other = (shape_variants(meshes(), 2, seed) for seed in (0, 0, 1))
    assert all(torch.equal(a.vertices, b.vertices) for a, b in zip(first, again))
    assert not all(a.num_vertices == b.num_vertices and torch.allclose(a.vertices, b.vertices)
                   for a, b in zip(first, other))


@pytest.mark.parametrize("kind", DEFORMATIONS)
def test_every_deformation_changes_the_shape(kind):
    source = meshes()
    variant = deformed_mesh(source[0], np.ones(3), kind, source[1:], np.random.default_rng(0), "v")
    if kind == "combine":
        assert variant.num_faces == source[0].num_faces + source[1].num_faces
    else:
        assert variant.num_faces == source[0].num_faces

    def extents(mesh):
        return mesh.vertices.amax(0) - mesh.vertices.amin(0)

    assert not torch.allclose(extents(variant), extents(source[0]), atol=1e-3)


def test_no_variants():
    assert shape_variants(meshes(), 0, seed=0) == []


def test_unknown_deformation():
    with pytest.raises(ValueError, match="unknown deformation 'melt'"):
        deformed_mesh(meshes()[0], np.ones(3), "melt", [], np.random.default_rng(0), "v")
