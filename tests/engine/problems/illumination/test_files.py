"""Illumination observations on disk: RGB images in, through engine.images and the spec's load and save."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.images import ImageError, load_colour_image, save_colour_image
from engine.problems.illumination import SPEC

MADE_BY = "feedbacklab render illumination"


def colour(height: int = 48, width: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)


def load(path, max_size: int = 1024) -> np.ndarray:
    return load_colour_image(path, max_size, MADE_BY)


def test_rgb_round_trip(tmp_path):
    image = colour()
    path = tmp_path / "observation.png"
    save_colour_image(path, image)
    loaded = load(path)
    assert loaded.shape == (48, 48, 3) and loaded.dtype == np.float32
    assert np.allclose(loaded, np.round(image * 255) / 255, atol=1e-6)  # 8 bits per channel, exactly


def test_alpha_and_palettes_become_rgb(tmp_path):
    pixels = (colour() * 255).round().astype(np.uint8)
    rgba = np.concatenate([pixels, np.full((48, 48, 1), 128, dtype=np.uint8)], axis=-1)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    assert np.array_equal(load(tmp_path / "alpha.png"), pixels / np.float32(255))
    Image.fromarray(pixels).convert("P").save(tmp_path / "palette.png")
    assert load(tmp_path / "palette.png").shape == (48, 48, 3)


def test_a_greyscale_image_is_refused(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((48, 48), 100, dtype=np.uint8), "L").save(path)
    with pytest.raises(ImageError, match="a greyscale image \\(L\\); this problem needs an RGB image"):
        load(path)


def test_a_non_square_image_is_refused(tmp_path):
    path = tmp_path / "wide.png"
    save_colour_image(path, colour(40, 64))
    with pytest.raises(ImageError, match="observations must be square, got 64x40"):
        load(path)


def test_a_tiny_image_is_refused(tmp_path):
    path = tmp_path / "tiny.png"
    save_colour_image(path, colour(16, 16))
    with pytest.raises(ImageError, match="only 16x16; use at least 32x32"):
        load(path)


def test_an_oversized_image_is_refused_from_its_header(tmp_path):
    path = tmp_path / "large.png"
    save_colour_image(path, colour(80, 80))
    with pytest.raises(ImageError, match="the image is 80x80 pixels, larger than the limit of 64"):
        load(path, max_size=64)


def test_missing_and_unreadable_files(tmp_path):
    missing = tmp_path / "none.png"
    with pytest.raises(ImageError, match=f"no such observation file; make one with `{MADE_BY} --out"):
        load(missing)
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    with pytest.raises(ImageError, match="cannot read the image"):
        load(broken)
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ImageError, match="observations must be .png"):
        load(text)


def test_the_spec_loads_and_saves_one_observation(tmp_path):
    path = tmp_path / "observation.png"
    image = colour(64, 64)
    SPEC.save_observation(str(path), image[None])
    observation = SPEC.load_observation(str(path))
    assert observation.shape == (1, 64, 64, 3) and observation.dtype == np.float32
    assert np.abs(observation[0] - image).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(ValueError, match="an image holds one observation, not 2"):
        SPEC.save_observation(str(tmp_path / "two.png"), np.stack([image, image]))
    with pytest.raises(ValueError, match="choose a .png"):
        SPEC.save_observation(str(tmp_path / "observation.tiff"), image[None])
