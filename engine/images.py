"""Silhouette observations on disk: PNG/JPG in, PNG out."""
from __future__ import annotations

import os

import imageio.v3 as iio
import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


class ImageError(ValueError):
    """An observation that cannot be used; the message names the file, the problem and the fix."""


def load_silhouette(path: str | os.PathLike, max_size: int | None = None) -> np.ndarray:
    """A square binary silhouette (H, W) float32 in {0, 1}: any channel layout, foreground = brighter than half
    the range (alpha counts when present). An image wider or taller than max_size is refused from its header,
    before it is decoded."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageError(f"{path}: no such observation file; make one with `feedbacklab render pose6d --out {path}`")
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        raise ImageError(f"{path}: observations must be {', '.join(IMAGE_EXTENSIONS)} images")
    if max_size is not None:
        _check_header_size(path, max_size)
    try:
        image = np.asarray(iio.imread(path, plugin="pillow"))
    except Exception as error:
        raise _unreadable(path, error) from None
    if image.ndim == 3 and image.shape[2] in (2, 4):
        image = image[..., :-1].max(axis=2) * (image[..., -1] > 0)
    elif image.ndim == 3:
        image = image.max(axis=2)
    if image.ndim != 2:
        raise ImageError(f"{path}: expected a single image, got an array of shape {image.shape}")
    top = np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1.0
    silhouette = (image.astype(np.float32) > 0.5 * top).astype(np.float32)
    height, width = silhouette.shape
    if height != width:
        raise ImageError(f"{path}: observations must be square, got {width}x{height}; crop or pad it")
    if height < 16:
        raise ImageError(f"{path}: observation is only {width}x{height}; use at least 16x16")
    if not silhouette.any():
        raise ImageError(f"{path}: the silhouette is empty (no pixel brighter than half); the object must be white")
    return silhouette


def _check_header_size(path: str, max_size: int) -> None:
    """Reads only the image's header (PIL decodes lazily)."""
    too_large = f"larger than the limit of {max_size} pixels per side; scale it down"
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        raise ImageError(f"{path}: the image has over {2 * Image.MAX_IMAGE_PIXELS:,} pixels, {too_large}") from None
    except Exception as error:
        raise _unreadable(path, error) from None
    if max(width, height) > max_size:
        raise ImageError(f"{path}: the image is {width}x{height} pixels, {too_large}")


def _unreadable(path: str, error: Exception) -> ImageError:
    return ImageError(f"{path}: cannot read the image ({type(error).__name__}); is it a valid PNG/JPG?")


def save_silhouette(path: str | os.PathLike, silhouette: np.ndarray) -> None:
    """Writes (H, W) values in [0, 1] as an 8-bit grey PNG (or whatever the extension says)."""
    path = check_image_output(path, IMAGE_EXTENSIONS)
    iio.imwrite(path, (np.clip(silhouette, 0, 1) * 255).round().astype(np.uint8))


def check_image_output(path: str | os.PathLike, extensions: tuple[str, ...]) -> str:
    """The path of an image about to be written; ImageError (one line) for a missing folder or another extension."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ImageError(f"{path}: directory {directory} does not exist")
    if not path.lower().endswith(extensions):
        raise ImageError(f"{path}: choose a {', '.join(extensions)} file name")
    return path


GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
"""Pillow modes of single-channel (greyscale) images."""


def load_colour_image(path: str | os.PathLike, max_size: int, made_by: str) -> np.ndarray:
    """A square RGB image (H, W, 3) float32 in [0, 1] (alpha dropped, palettes expanded); ImageError (one line)
    for a missing, unreadable, greyscale, non-square, tiny or oversized file. made_by: the command that makes one."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageError(f"{path}: no such observation file; make one with `{made_by} --out {path}`")
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        raise ImageError(f"{path}: observations must be {', '.join(IMAGE_EXTENSIONS)} images")
    _check_header_size(path, max_size)
    try:
        with Image.open(path) as image:
            if image.mode in GREY_MODES:
                raise ImageError(f"{path}: a greyscale image ({image.mode}); this problem needs an RGB image")
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except ImageError:
        raise
    except Exception as error:
        raise _unreadable(path, error) from None
    height, width = pixels.shape[:2]
    if height != width:
        raise ImageError(f"{path}: observations must be square, got {width}x{height}; crop or pad it")
    if height < 32:
        raise ImageError(f"{path}: observation is only {width}x{height}; use at least 32x32")
    return pixels


def save_colour_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Writes an (H, W, 3) image in [0, 1] as 8-bit RGB (PNG, or what the extension says)."""
    path = check_image_output(path, IMAGE_EXTENSIONS)
    iio.imwrite(path, (np.clip(image, 0, 1) * 255).round().astype(np.uint8))
