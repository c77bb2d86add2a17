"""The jpeg problem's forward process: JPEG encoding and decoding by Pillow (libjpeg), at a quality factor, and the
quality of an existing JPEG estimated from its quantisation tables.

Images are float arrays in [0, 1], (H, W) grey or (H, W, 3) RGB; the encoder sees them rounded to 8 bits, as any
JPEG encoder does, so f is piecewise constant and has no useful gradient: solvers must treat it as a black box.
Colour images are encoded with Pillow's defaults (YCbCr, 4:2:0 chroma subsampling).
"""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ...bounds import integer

QUALITY = integer(1, 100)
"""libjpeg's quality factor: 1 (coarsest quantisation) to 100."""
BLOCK = 8
STANDARD_LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64)
"""The luminance quantisation table of the JPEG standard (Annex K), in raster order: libjpeg scales it by the
quality factor."""


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats to the 8-bit values an encoder sees."""
    return (np.clip(image, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def encode(image: np.ndarray, quality: int) -> bytes:
    """The JPEG file of an (H, W) or (H, W, 3) image in [0, 1]."""
    QUALITY.check("JPEG quality", quality)
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    """A JPEG file's pixels as float32 in [0, 1]."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image, dtype=np.float32) / 255.0


def roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """f(image): the image encoded as JPEG at `quality` and decoded again."""
    return decode(encode(image, quality))


def roundtrip_batch(images: torch.Tensor, quality: int | torch.Tensor) -> torch.Tensor:
    """f of every image of (N, C, H, W) in [0, 1] (C = 1 grey or 3 RGB) at one quality or at each image's own
    (N,), on the images' device and dtype."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, 1 or 3, H, W), got {tuple(images.shape)}")
    qualities = quality.tolist() if isinstance(quality, torch.Tensor) else [quality] * len(images)
    arrays = images.detach().float().cpu().numpy()
    out = np.empty_like(arrays)
    for i, (item, q) in enumerate(zip(arrays, qualities)):
        decoded = roundtrip(item[0] if item.shape[0] == 1 else item.transpose(1, 2, 0), int(q))
        out[i] = decoded[None] if decoded.ndim == 2 else decoded.transpose(2, 0, 1)
    return torch.from_numpy(out).to(images)


def table_scale(quality: int) -> float:
    """libjpeg's scaling of the standard tables at `quality`, in percent (quality 50: 100)."""
    QUALITY.check("JPEG quality", quality)
    return 5000.0 / quality if quality < 50 else 200.0 - 2.0 * quality


def quality_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes at `quality` (its scaling of the standard table)."""
    return np.clip(np.floor((STANDARD_LUMINANCE * table_scale(quality) + 50.0) / 100.0), 1, 255)


def estimate_quality(image: Image.Image) -> int | None:
    """The quality factor whose libjpeg luminance table is nearest to an opened JPEG's (None for other files).
    Exact for files written by libjpeg-based encoders with standard tables; an estimate for others."""
    tables = getattr(image, "quantization", None)
    if not tables or 0 not in tables:
        return None
    table = np.asarray(tables[0], dtype=np.float64)
    if table.size != 64:
        return None
    errors = [np.abs(np.log(quality_table(q)) - np.log(table)).sum() for q in range(1, 101)]  # Pillow: raster
    return int(np.argmin(errors)) + 1

