"""Pictures of a fusion (the paper's Fig. 3): the frame with the 72 tracker boxes (thin blue), the true box (red)
and the estimate (yellow); and the energy of the top-left corner over the image plane as a heat map (dark: low
energy, its wells), with the true corner (red) and the estimate's (yellow) marked, under the configured energy
(Fig. 3's centre right for the untrained energy, right for the trained one); the time it weighs trackers by is the
observation's own.
"""
from __future__ import annotations

import functools
import os
import textwrap

import numpy as np
import torch
from PIL import Image, ImageDraw

from ...colour_ramp import ramp_colours
from ...learn.energy_weights import EnergyWeightsError
from . import energy as fusion_energy
from .boxes import FRAME_HEIGHT, FRAME_WIDTH

SIZE = (320, 240)
"""Pixels of a picture: the 640x480 frame at half scale."""
BACKGROUND = (28, 30, 36)
GRID = (44, 47, 55)
TRACKER_RGB = (80, 130, 255)
TRUTH_RGB = (235, 50, 50)
ESTIMATE_RGB = (255, 215, 0)
HEAT_STOPS = (0.0, 0.35, 0.7, 1.0)
HEAT_RGB = ((12, 16, 48), (48, 80, 160), (120, 190, 200), (240, 244, 230))
"""The heat map's ramp from the lowest energy of the plane (0) to the highest (1)."""
HEAT_GAMMA = 3.0
"""The ramp is applied to the normalised energy to this power, so that shallow wells (a few trackers) show."""
HEAT_STEP = 4
"""Frame pixels between the heat map's samples."""
_SUPERSAMPLE = 2


def _scale() -> float:
    return SIZE[0] / FRAME_WIDTH


def _box(draw: ImageDraw.ImageDraw, box: np.ndarray, rgb: tuple[int, int, int], width: int) -> None:
    s = _scale() * _SUPERSAMPLE
    x1, y1, x2, y2 = (float(v) * s for v in box)
    draw.rectangle([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)], outline=rgb, width=width)


def _frame_text(draw: ImageDraw.ImageDraw, text: str) -> None:
    """A caption in the bottom-left corner, on a dark ground."""
    s = _SUPERSAMPLE
    origin = (6 * s, (SIZE[1] - 17) * s)
    left, top, right, bottom = draw.textbbox(origin, text, font_size=11 * s)
    draw.rectangle([left - 3 * s, top - 2 * s, right + 3 * s, bottom + 2 * s], fill=BACKGROUND)
    draw.text(origin, text, fill=(210, 210, 210), font_size=11 * s)


def boxes_picture(observation: np.ndarray, x: np.ndarray | None, truth: np.ndarray | None) -> np.ndarray:
    """(240, 320, 3) uint8: the trackers' boxes of one observation (72, 5), the truth and the estimate (4,)."""
    s = _SUPERSAMPLE
    image = Image.new("RGB", (SIZE[0] * s, SIZE[1] * s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for column in range(0, FRAME_WIDTH, 80):
        draw.line([(column * _scale() * s, 0), (column * _scale() * s, SIZE[1] * s)], fill=GRID, width=1)
    for row in range(0, FRAME_HEIGHT, 80):
        draw.line([(0, row * _scale() * s), (SIZE[0] * s, row * _scale() * s)], fill=GRID, width=1)
    for box in np.asarray(observation)[:, :4]:
        _box(draw, box, TRACKER_RGB, 1)
    if truth is not None:
        _box(draw, np.asarray(truth), TRUTH_RGB, 2 * s)
    if x is not None:
        _box(draw, np.asarray(x), ESTIMATE_RGB, 2 * s)
    _frame_text(draw, f"frame {float(np.asarray(observation)[0, 4]):.0f}")
    return np.asarray(image.resize(SIZE, Image.LANCZOS))


def corner_energy_map(observation: np.ndarray, weights: fusion_energy.EnergyWeights) -> np.ndarray:
    """(H, W) the top-left corner's energy on a grid over the frame, one sample every HEAT_STEP pixels."""
    observed = torch.tensor(np.array(observation, dtype=np.float32))[None]
    columns = torch.arange(HEAT_STEP / 2, FRAME_WIDTH, HEAT_STEP)
    rows = torch.arange(HEAT_STEP / 2, FRAME_HEIGHT, HEAT_STEP)
    grid_y, grid_x = torch.meshgrid(rows, columns, indexing="ij")
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
    with torch.no_grad():
        rbf_centres, widths, importance = fusion_energy.rbf_terms(observed[..., :4], observed[:, 0, 4], weights)
        values = fusion_energy.corner_energies(points[None, None], rbf_centres[:, :1], widths[:1], importance[:, :1])
    return values.reshape(len(rows), len(columns)).numpy()


def _heat_colours(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    unit = ((values - low) / max(high - low, 1e-12)) ** HEAT_GAMMA
    return ramp_colours(unit, HEAT_STOPS, HEAT_RGB)


@functools.lru_cache(maxsize=16)
def _heat_image(observation: bytes, choice: str, partition: str, version: bytes) -> Image.Image:
    """The heat map of an observation (its float32 bytes) under the weights of --energy `choice` (`version`: their
    bytes, so that a new file is drawn anew), at the supersampled size: drawn once for every estimate and solver
    shown on that observation."""
    values = corner_energy_map(np.frombuffer(observation, np.float32).reshape(-1, 5),
                               fusion_energy.load_weights(choice, partition))
    return Image.fromarray(_heat_colours(values)).resize((SIZE[0] * _SUPERSAMPLE, SIZE[1] * _SUPERSAMPLE),
                                                         Image.BILINEAR)


def _mark(draw: ImageDraw.ImageDraw, point: np.ndarray, rgb: tuple[int, int, int], cross: bool) -> None:
    s = _scale() * _SUPERSAMPLE
    x, y = float(point[0]) * s, float(point[1]) * s
    r = 5 * _SUPERSAMPLE
    if cross:
        draw.line([(x - r, y - r), (x + r, y + r)], fill=rgb, width=2 * _SUPERSAMPLE)
        draw.line([(x - r, y + r), (x + r, y - r)], fill=rgb, width=2 * _SUPERSAMPLE)
    else:
        draw.ellipse([x - r, y - r, x + r, y + r], outline=rgb, width=2 * _SUPERSAMPLE)


def energy_picture(observation: np.ndarray, x: np.ndarray | None, truth: np.ndarray | None, choice: str,
                   partition: str = "sequences") -> np.ndarray:
    """(240, 320, 3) uint8: the top-left corner's energy over the frame under the weights of --energy `choice`
    (of --partition), the true corner (red circle) and the estimate's (yellow cross); a picture of the reason
    when the weights cannot be read."""
    try:
        weights = fusion_energy.load_weights(choice, partition)
    except EnergyWeightsError as error:
        return message_picture(f"no energy to draw: {error}")
    version = b"".join(value.detach().cpu().numpy().tobytes() for value in weights.values())
    observed = np.ascontiguousarray(observation, dtype=np.float32).tobytes()
    image = _heat_image(observed, choice, partition, version).copy()
    draw = ImageDraw.Draw(image)
    if truth is not None:
        _mark(draw, np.asarray(truth)[:2], TRUTH_RGB, cross=False)
    if x is not None:
        _mark(draw, np.asarray(x)[:2], ESTIMATE_RGB, cross=True)
    name = choice if choice in ("untrained", "trained") else os.path.basename(choice)
    _frame_text(draw, f"top-left corner energy: {name}" + (f" ({partition})" if choice == "trained" else ""))
    return np.asarray(image.resize(SIZE, Image.LANCZOS))


def message_picture(text: str) -> np.ndarray:
    """A picture of a message, wrapped, for a panel that cannot draw (no weights file)."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    lines = textwrap.wrap(text, 52)[:14]
    ImageDraw.Draw(image).multiline_text((8, 8), "\n".join(lines), fill=(220, 220, 220), font_size=11)
    return np.asarray(image)
