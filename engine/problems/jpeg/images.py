"""Image files of the jpeg problem: any PNG/JPG/BMP/TIFF in, 8-bit grey or RGB pixels out, each bad file refused
in one line (missing, not an image, truncated, too small, too large, more than 8 bits per channel). A JPEG also
tells its quality factor, estimated from its quantisation tables."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from .codec import estimate_quality

MIN_SIDE = 16
"""Two JPEG blocks a side, so that blocks have neighbours and SSIM's 11 x 11 window fits."""
MAX_SIDE = 8192
MAX_PIXELS = 2048 * 2048
"""The networks run in tiles (memory bounded), but a run keeps every record's estimate and update (float32) and
JPEG (8 bits) per solver: 9 bytes a pixel a record, 3.8 GB for tv's 101 records at this limit."""
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class LoadedImage:
    pixels: np.ndarray
    """(H, W) grey or (H, W, 3) RGB, float32 in [0, 1]."""
    quality: int | None
    """The file's JPEG quality factor as estimated from its tables (None: not a JPEG)."""
    name: str = "image"
    """The file's name, for messages."""


def read_image(path: str | os.PathLike, colour: bool = False) -> LoadedImage:
    """The image of a file, grey (ITU-R 601 luma of a colour file) or RGB; ValueError (one line) otherwise."""
    path = os.fspath(path)
    if not path.lower().endswith(EXTENSIONS):
        raise ValueError(f"{path}: not an image file; give a {', '.join(EXTENSIONS)} file")
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            width, height = image.size
            _check_size(path, width, height)
            if image.mode in ("I", "F") or "16" in image.mode:  # I;16, I;16B, I;16L, ...
                raise ValueError(f"{path}: a {image.mode} image (more than 8 bits per channel); JPEG holds 8 bits, "
                                 "so save it as an 8-bit PNG first")
            quality = estimate_quality(image) if image.format == "JPEG" else None
            converted = image.convert("RGB" if colour else "L")
            pixels = np.asarray(converted, dtype=np.float32) / 255.0
    except ValueError:
        raise
    except Image.DecompressionBombError:
        raise ValueError(f"{path}: over {MAX_PIXELS:,} pixels, more than this problem restores; scale it down "
                         "or cut it into parts") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path}: cannot read the image ({_reason(error)}); is it a complete PNG/JPG/BMP file?") \
            from None
    return LoadedImage(pixels, quality, os.path.basename(path))


def load_clean_image(path: str | os.PathLike, colour: bool = False) -> np.ndarray:
    """Only the pixels (read_image)."""
    return read_image(path, colour).pixels


def _check_size(path: str, width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise ValueError(f"{path}: the image is {width}x{height} pixels; at least {MIN_SIDE}x{MIN_SIDE} (two JPEG "
                         "blocks a side) is needed")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ValueError(f"{path}: the image is {width}x{height} pixels, larger than this problem's limit "
                         f"({MAX_SIDE} per side, {MAX_PIXELS:,} pixels); scale it down or cut it into parts")


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) < 80 else type(error).__name__


def save_image(path: str | os.PathLike, pixels: np.ndarray, quality: int | None = None) -> None:
    """Writes (H, W) or (H, W, 3) values in [0, 1] as 8 bits (a JPEG at `quality` when the name says .jpg);
    ValueError (one line) for a bad name or folder."""
    from ...images import check_image_output
    from .codec import to_uint8

    path = check_image_output(path, EXTENSIONS)
    options = {"quality": int(quality)} if quality is not None and path.lower().endswith((".jpg", ".jpeg")) else {}
    Image.fromarray(to_uint8(pixels)).save(path, **options)
