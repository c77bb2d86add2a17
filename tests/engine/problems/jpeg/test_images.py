import numpy as np
import pytest
from PIL import Image

from engine.problems.jpeg import codec, images

from .conftest import textured_image


def test_a_png_reads_as_grey_or_colour(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(codec.to_uint8(textured_image(colour=True))).save(path)
    grey = images.read_image(path)
    assert grey.pixels.shape == (64, 80) and grey.quality is None and grey.pixels.dtype == np.float32
    assert images.read_image(path, colour=True).pixels.shape == (64, 80, 3)


def test_a_jpeg_tells_its_quality(tmp_path):
    path = tmp_path / "photo.jpg"
    images.save_image(path, textured_image(), quality=30)
    loaded = images.read_image(path)
    assert loaded.quality == 30
    assert np.abs(loaded.pixels - codec.roundtrip(textured_image(), 30)).max() < 1e-6


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such image file"),
    (lambda p: p.write_bytes(b"not an image at all"), "cannot read the image"),
    (lambda p: Image.new("L", (1, 1)).save(p), "1x1 pixels; at least 16x16"),
    (lambda p: Image.fromarray(np.zeros((20, 20), np.uint16) + 1000).save(p), "more than 8 bits"),
])
def test_bad_files_are_refused_in_one_line(tmp_path, make, message):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(ValueError, match=message) as error:
        images.read_image(path)
    assert "\n" not in str(error.value) and "bad.png" in str(error.value)


def test_a_truncated_jpeg_is_refused(tmp_path):
    path = tmp_path / "cut.jpg"
    images.save_image(path, textured_image(), quality=50)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.jpg: cannot read the image"):
        images.read_image(path)


def test_an_image_over_the_limit_is_refused_from_its_header(tmp_path, monkeypatch):
    path = tmp_path / "wide.png"
    Image.new("L", (64, 16)).save(path)
    monkeypatch.setattr(images, "MAX_SIDE", 32)
    with pytest.raises(ValueError, match="64x16 pixels, larger than this problem's limit"):
        images.read_image(path)


def test_other_extensions_and_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not an image file"):
        images.read_image(tmp_path / "a.txt")
    with pytest.raises(ValueError, match="does not exist"):
        images.save_image(tmp_path / "no" / "a.png", textured_image())
