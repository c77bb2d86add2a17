"""The jpeg problem's files: the image input (a clean image, or a JPEG with its quality), sessions' arrays of it,
the observation written by `render`, and the restored image written by `solve --out`."""
from __future__ import annotations

import numpy as np

from .codec import QUALITY
from .images import LoadedImage, read_image, save_image

OBSERVATION_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff")
"""Lossless: a decoded JPEG saved as it is."""
ESTIMATE_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff")


def load_image_input(text: str | None) -> LoadedImage | None:
    """The opened image (RGB; the problem takes the luma unless --colour), or None for the built-in scene."""
    return None if text is None else read_image(text, colour=True)


def describe_image(image: LoadedImage | None) -> str:
    if image is None:
        return "the built-in procedural scene"
    height, width = image.pixels.shape[:2]
    kind = (f"a JPEG of quality {image.quality} (estimated from its tables)" if image.quality is not None
            else "a clean image")
    return f"{image.name}: {width}x{height}, {kind}"


def image_name(image: LoadedImage | None) -> str:
    return "scene" if image is None else image.name


def image_arrays(image: LoadedImage | None) -> dict[str, np.ndarray]:
    if image is None:
        return {}
    return {"pixels": image.pixels, "quality": np.array([image.quality or 0], dtype=np.int64)}


def image_from_arrays(name: str, arrays: dict[str, np.ndarray]) -> LoadedImage:
    """An image kept by a session; ValueError (one line) when its arrays are not one."""
    pixels, quality = arrays.get("pixels"), arrays.get("quality")
    if (pixels is None or quality is None or pixels.dtype.kind != "f" or pixels.ndim != 3 or pixels.shape[2] != 3
            or quality.shape != (1,) or not np.isfinite(pixels).all()):
        raise ValueError(f"image {name!r}: its arrays are not an RGB image and a quality; open the image file again")
    value = int(quality[0])
    if value:
        QUALITY.check("the image's JPEG quality", value)
    return LoadedImage(np.clip(pixels, 0.0, 1.0).astype(np.float32), value or None, name)


def refuse_observation_file(path: str) -> np.ndarray:
    """The jpeg problem's observation is the image input itself, so that its quality travels with it."""
    raise ValueError(f"{path}: open a JPEG as the image (`--image {path}`, or Open image... in the app): its "
                     "quality is read from its tables")


def save_observation(path: str, observation: np.ndarray) -> None:
    """The decoded JPEG (1, C, H, W) as a lossless image."""
    if len(observation) != 1:
        raise ValueError(f"{path}: an image file holds one decoded JPEG, not {len(observation)}")
    save_image(path, _pixels(observation[0]))


def save_estimate(path: str, x: np.ndarray, observation: np.ndarray) -> None:
    """A restored image (D,) of the observation's shape, as 8 bits."""
    save_image(path, _pixels(np.asarray(x, dtype=np.float32).reshape(observation.shape)))


def parse_image_text(text: str, config) -> None:
    raise ValueError("a jpeg estimate is an image: open it as --image, it cannot be typed")


def format_image(x: np.ndarray) -> str:
    x = np.asarray(x)
    return f"an image of {x.size:,} values in [{x.min():.3f}, {x.max():.3f}]"


def _pixels(image: np.ndarray) -> np.ndarray:
    """(C, H, W) to (H, W) or (H, W, 3)."""
    return image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)

