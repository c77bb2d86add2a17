import numpy as np
import pytest
from PIL import Image


def textured_image(height: int = 64, width: int = 80, seed: int = 0, colour: bool = False) -> np.ndarray:
    """A procedural image with edges, gradients and texture in [0, 1] (what JPEG blocks show on)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = 0.5 + 0.3 * np.sin(7 * x + 3 * y + seed) + 0.15 * (x > 0.5) + 0.05 * rng.standard_normal((height, width))
    image = np.clip(base, 0, 1).astype(np.float32)
    return np.stack([image, image[::-1], 1 - image], axis=-1) if colour else image


@pytest.fixture
def image_folder(tmp_path):
    """Six 8-bit grey PNGs of 48 x 48."""
    folder = tmp_path / "clean"
    folder.mkdir()
    for i in range(6):
        Image.fromarray((textured_image(48, 48, seed=i) * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    return folder
