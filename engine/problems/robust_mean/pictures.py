"""Pictures of robust-mean: the 1D energy E(t; sigma) over the samples (a rug of ticks), its local minima, the
true mean and the estimate (NumPy, Pillow). The paper's Fig. 2 style."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from .problem import rbf_energy

BACKGROUND = (247, 246, 242)
CURVE = (60, 90, 160)
SAMPLE = (120, 120, 120)
TRUTH = (46, 160, 67)
ESTIMATE = (230, 120, 20)
MINIMUM = (200, 40, 40)
TEXT = (40, 40, 40)
SIZE = (360, 200)
_GRID = 721
_MARGIN = 14


def energy_curve(samples: np.ndarray, log_sigma: float, span: float) -> tuple[np.ndarray, np.ndarray]:
    """(t, E(t)) on a grid over [-span, span]."""
    t = np.linspace(-span, span, _GRID, dtype=np.float32)
    with torch.no_grad():
        energy = rbf_energy(torch.as_tensor(t)[:, None], torch.as_tensor(samples, dtype=torch.float32)[None],
                            torch.tensor(log_sigma))
    return t, energy.numpy()


def local_minima(t: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """The grid points where the curve is lower than both neighbours."""
    inner = (energy[1:-1] < energy[:-2]) & (energy[1:-1] <= energy[2:])
    return t[1:-1][inner]


class Axes:
    """Pixel coordinates of t and of the energy within a picture of a given size."""

    def __init__(self, size: tuple[int, int], span: float, low: float, high: float):
        self.width, self.height = size
        self.span, self.low, self.high = span, low, max(high, low + 1e-6)

    def x(self, t: float | np.ndarray) -> np.ndarray:
        return _MARGIN + (np.asarray(t) + self.span) / (2 * self.span) * (self.width - 2 * _MARGIN)

    def y(self, energy: float | np.ndarray) -> np.ndarray:
        top, bottom = _MARGIN + 12, self.height - _MARGIN - 10
        return bottom - (np.asarray(energy) - self.low) / (self.high - self.low) * (bottom - top)


def energy_picture(samples: np.ndarray, log_sigma: float, span: float, estimate: float | None,
                   truth: float | None, size: tuple[int, int] = SIZE, caption: str = "",
                   arrows: tuple[tuple[float, tuple[int, int, int]], ...] = ()) -> np.ndarray:
    """(H, W, 3) uint8: the energy curve of these samples under this log sigma, its local minima (red), the rug
    of samples, the true mean (green line), the estimate (orange line) and `arrows` (where the estimate would
    move, drawn from it: (displacement in t, colour))."""
    t, energy = energy_curve(samples, log_sigma, span)
    axes = Axes(size, span, float(energy.min()), float(energy.max()))
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    bottom = size[1] - _MARGIN
    for sample in np.asarray(samples, dtype=np.float64).reshape(-1):
        if abs(sample) <= span:
            x = float(axes.x(sample))
            draw.line([(x, bottom - 6), (x, bottom)], fill=SAMPLE)
    if truth is not None:
        x = float(axes.x(truth))
        draw.line([(x, _MARGIN + 10), (x, bottom)], fill=TRUTH, width=2)
    points = list(zip(axes.x(t).tolist(), axes.y(energy).tolist()))
    draw.line(points, fill=CURVE, width=2)
    for minimum in local_minima(t, energy):
        x, y = float(axes.x(minimum)), float(np.interp(minimum, t, axes.y(energy)))
        draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], outline=MINIMUM)
    if estimate is not None and abs(estimate) <= span:
        x, y = float(axes.x(estimate)), float(np.interp(estimate, t, axes.y(energy)))
        draw.line([(x, _MARGIN + 10), (x, bottom)], fill=ESTIMATE)
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=ESTIMATE)
        for row, (displacement, colour) in enumerate(arrows):
            end = float(axes.x(np.clip(estimate + displacement, -span, span)))
            level = _MARGIN + 14 + 8 * row
            draw.line([(x, level), (end, level)], fill=colour, width=3)
            head = 4 if end >= x else -4
            draw.polygon([(end + head, level), (end, level - 4), (end, level + 4)], fill=colour)
    draw.text((_MARGIN, 2), caption or f"sigma {np.exp(log_sigma):.3g}", fill=TEXT)
    return np.asarray(image)
