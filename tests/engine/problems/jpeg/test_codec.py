import io

import numpy as np
import pytest
import torch
from PIL import Image

from engine.problems.jpeg import codec

from .conftest import textured_image


@pytest.mark.parametrize("quality", [5, 10, 20, 37, 50, 75, 95])
def test_the_quality_is_read_back_from_the_tables(quality):
    data = codec.encode(textured_image(), quality)
    with Image.open(io.BytesIO(data)) as image:
        assert codec.estimate_quality(image) == quality


def test_a_png_has_no_quality():
    buffer = io.BytesIO()
    Image.fromarray(codec.to_uint8(textured_image())).save(buffer, format="PNG")
    with Image.open(buffer) as image:
        assert codec.estimate_quality(image) is None


def test_roundtrip_is_lossy_and_coarser_at_low_quality():
    image = textured_image()
    errors = [np.abs(codec.roundtrip(image, q) - image).mean() for q in (10, 40, 90)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert codec.roundtrip(image, 10).shape == image.shape and codec.roundtrip(image, 10).dtype == np.float32


def test_the_batch_matches_single_images_grey_and_colour():
    grey = torch.from_numpy(np.stack([textured_image(seed=s) for s in range(3)]))[:, None]
    out = codec.roundtrip_batch(grey, 20)
    assert out.shape == grey.shape
    assert torch.equal(out[1, 0], torch.from_numpy(codec.roundtrip(grey[1, 0].numpy(), 20)))
    colour = torch.from_numpy(textured_image(colour=True)).permute(2, 0, 1)[None]
    assert codec.roundtrip_batch(colour, 20).shape == colour.shape


def test_each_image_can_have_its_own_quality():
    from engine.problems.jpeg.quality_metrics import psnr

    images = torch.rand(2, 1, 16, 16)
    out = codec.roundtrip_batch(images, torch.tensor([10, 90]))
    assert psnr(out[1:], images[1:]) > psnr(out[:1], images[:1])
    assert torch.equal(out[0, 0], torch.from_numpy(codec.roundtrip(images[0, 0].numpy(), 10)))


@pytest.mark.parametrize("quality", [0, 101, 10.5])
def test_quality_outside_1_to_100_is_refused(quality):
    with pytest.raises(ValueError, match="JPEG quality must be a whole number from 1 to 100"):
        codec.encode(textured_image(), quality)


def test_a_batch_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        codec.roundtrip_batch(torch.zeros(2, 2, 16, 16), 10)
