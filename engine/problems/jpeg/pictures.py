"""The jpeg problem's pictures: an image item (C, H, W) in [0, 1] as (H, W, 3) uint8, the signed difference of
two images magnified, and a zoomed crop in which the 8 x 8 blocks are visible."""
from __future__ import annotations

import numpy as np

DIFFERENCE_GAIN = 8.0
"""A difference of 1/16 (16 grey levels) is drawn at full colour."""
ZOOM_SIDE = 32
"""Pixels a side of the zoomed crop: four blocks."""
ZOOM_SCALE = 4
BLOCK_LINE_RGB = (255, 200, 0)
"""The block grid, blended half and half with the image under it."""


def image_picture(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of a (C, H, W) image (float in [0, 1], or uint8 as traces store predictions), grey
    repeated."""
    image = np.clip(_as_float(image), 0.0, 1.0)
    rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
    return (rgb.transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)


def difference_picture(a: np.ndarray, b: np.ndarray, gain: float = DIFFERENCE_GAIN) -> np.ndarray:
    """(H, W, 3) uint8 of a - b (their luma, or grey) magnified: red where a is brighter, blue where darker."""
    difference = np.clip(gain * (_grey(a) - _grey(b)), -1.0, 1.0)
    picture = np.full(difference.shape + (3,), 255.0, dtype=np.float32)
    picture[..., 1] -= 255.0 * np.abs(difference)
    picture[..., 2] -= 255.0 * np.clip(difference, 0.0, 1.0)
    picture[..., 0] -= 255.0 * np.clip(-difference, 0.0, 1.0)
    return picture.round().astype(np.uint8)


def zoom_picture(images: list[np.ndarray], centre: tuple[float, float], side: int = ZOOM_SIDE,
                 scale: int = ZOOM_SCALE) -> np.ndarray:
    """The same crop of each (C, H, W) image, side x side pixels around `centre` (fractions of the width and
    height, snapped to the block grid), magnified `scale` times without smoothing and with the block grid drawn,
    side by side."""
    height, width = images[0].shape[-2:]
    side_y, side_x = min(side, height), min(side, width)
    top = _grid_start(centre[1], height, side_y)
    left = _grid_start(centre[0], width, side_x)
    crops = []
    for image in images:
        crop = image_picture(np.asarray(image)[:, top:top + side_y, left:left + side_x])
        crop = crop.repeat(scale, axis=0).repeat(scale, axis=1)
        line = np.array(BLOCK_LINE_RGB, dtype=np.float32)
        for offset in range(-(top % 8) % 8, side_y, 8):
            crop[offset * scale, :] = (crop[offset * scale, :] + line) / 2
        for offset in range(-(left % 8) % 8, side_x, 8):
            crop[:, offset * scale] = (crop[:, offset * scale] + line) / 2
        crops.append(crop)
    gap = np.full((crops[0].shape[0], 4, 3), 40, dtype=np.uint8)
    return np.concatenate([part for crop in crops for part in (crop, gap)][:-1], axis=1)


def _grid_start(fraction: float, size: int, side: int) -> int:
    start = int(round(np.clip(fraction, 0.0, 1.0) * size - side / 2))
    start = min(max(start, 0), size - side)
    return start - start % 8 if start - start % 8 + side <= size else start


def _as_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)


def _grey(image: np.ndarray) -> np.ndarray:
    image = _as_float(image)
    if image.shape[0] == 1:
        return image[0]
    return 0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]
