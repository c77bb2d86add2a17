"""Silhouette observations on disk: PNG/JPG in, PNG out."""
from __future__ import annotations

import os

import imageio.v3 as iio
import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


class ImageError(ValueError):
    """An observation that cannot be used; the message names the file, the problem and the fix."""


def load_silhouette(path: str | os.PathLike) -> np.ndarray:
    """A square binary silhouette (H, W) float32 in {0, 1}: any channel layout, foreground = brighter than half
    the range (alpha counts when present)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageError(f"{path}: no such observation file; make one with `feedbacklab render pose6d --out {path}`")
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        raise ImageError(f"{path}: observations must be {', '.join(IMAGE_EXTENSIONS)} images")
    try:
        image = np.asarray(iio.imread(path, plugin="pillow"))
    except Exception as error:
        raise ImageError(f"{path}: cannot read the image ({type(error).__name__}); is it a valid PNG/JPG?") from None
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


def save_silhouette(path: str | os.PathLike, silhouette: np.ndarray) -> None:
    """Writes (H, W) values in [0, 1] as an 8-bit grey PNG (or whatever the extension says)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ImageError(f"{path}: directory {directory} does not exist")
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        raise ImageError(f"{path}: choose a {', '.join(IMAGE_EXTENSIONS)} file name")
    iio.imwrite(path, (np.clip(silhouette, 0, 1) * 255).round().astype(np.uint8))
