import pytest
import torch

from engine.problems.jpeg import codec
from engine.problems.jpeg.quantisation import QuantisationSet, dct_matrix, from_blocks, to_blocks

from .conftest import textured_image


def test_the_dct_is_orthonormal():
    matrix = dct_matrix()
    assert torch.allclose(matrix @ matrix.T, torch.eye(8, dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("height, width", [(32, 48), (37, 45)])
def test_blocks_round_trip_at_any_size(height, width):
    image = torch.rand(height, width, dtype=torch.float64)
    blocks = to_blocks(image)
    assert blocks.shape == (-(-height // 8), -(-width // 8), 8, 8)
    assert torch.equal(from_blocks(blocks, height, width), image)


@pytest.mark.parametrize("quality", [10, 30])
def test_the_jpeg_lies_in_its_set_and_the_clean_image_nearly(quality):
    clean = torch.from_numpy(codec.to_uint8(textured_image(40, 56)).astype("float32") / 255)
    observed = torch.from_numpy(codec.roundtrip(clean.numpy(), quality))
    constraint = QuantisationSet(observed, quality)
    assert constraint.distance(observed) < 1e-6
    assert constraint.distance(clean) < 0.5  # only the decoder's rounding and clipping put it outside
    assert constraint.distance(torch.rand(40, 56)) > 5


def test_projection_lands_in_the_set_and_is_idempotent():
    observed = torch.from_numpy(codec.roundtrip(textured_image(), 10))
    constraint = QuantisationSet(observed, 10)
    projected = constraint.project(torch.rand(64, 80))
    assert projected.shape == (64, 80) and projected.dtype == observed.dtype
    assert constraint.distance(projected) < 1e-3
    assert torch.allclose(constraint.project(projected), projected, atol=1e-5)


def test_a_table_or_a_quality_give_the_same_set():
    observed = torch.from_numpy(codec.roundtrip(textured_image(), 20))
    table = torch.from_numpy(codec.quality_table(20).reshape(8, 8))
    a, b = QuantisationSet(observed, 20), QuantisationSet(observed, table)
    assert torch.equal(a.low, b.low) and torch.equal(a.high, b.high)


def test_colour_or_batches_are_refused():
    with pytest.raises(ValueError, match="one grey image"):
        QuantisationSet(torch.rand(3, 16, 16), 10)
