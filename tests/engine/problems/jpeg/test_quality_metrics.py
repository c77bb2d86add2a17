import math

import pytest
import torch

from engine.problems.jpeg import codec
from engine.problems.jpeg.quality_metrics import luma, psnr, ssim

from .conftest import textured_image


def eight_bit(image):
    return torch.from_numpy(codec.to_uint8(image).astype("float32") / 255.0)


def test_psnr_of_a_known_error():
    clean = torch.full((1, 1, 16, 16), 128 / 255)
    assert psnr(clean + 25 / 255, clean).item() == pytest.approx(20 * math.log10(255 / 25), abs=1e-3)
    assert psnr(clean, clean).item() == 100.0


def test_ssim_is_one_for_the_clean_image_and_drops_with_compression():
    clean = eight_bit(textured_image(48, 48))[None, None]
    assert ssim(clean, clean).item() == pytest.approx(1.0, abs=1e-5)
    scores = [ssim(codec.roundtrip_batch(clean, q), clean).item() for q in (10, 50, 90)]
    assert scores[0] < scores[1] < scores[2] < 1.0


def test_colour_is_measured_on_the_luma():
    rgb = eight_bit(textured_image(32, 32, colour=True)).permute(2, 0, 1)[None]
    assert luma(rgb).shape == (1, 1, 32, 32)
    assert luma(torch.ones(1, 3, 2, 2)).flatten()[0].item() == pytest.approx(235 / 255, abs=1e-5)
    assert psnr(rgb, rgb).item() == 100.0 and ssim(rgb, rgb).item() == pytest.approx(1.0, abs=1e-5)


def test_batches_give_one_value_per_image():
    images = torch.rand(3, 1, 20, 20)
    assert psnr(images, images.flip(0)).shape == (3,) and ssim(images, images.flip(0)).shape == (3,)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        psnr(torch.rand(2, 16, 16), torch.rand(2, 16, 16))
    with pytest.raises(ValueError, match="at least 11 x 11"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))
