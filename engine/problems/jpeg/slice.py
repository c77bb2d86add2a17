"""The jpeg problem's energy-slice axes: directions that need no image shape, brightness (grey levels added)
and contrast (percent about mid-grey). The energy ||f(x) - y||^2 along them shows how far the JPEG of a
restored image may drift from the observed one."""
from __future__ import annotations

import numpy as np
import torch

from ..spec import SliceAxis
from .problem import GREY_LEVELS


def _brightness(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    return x + offsets[:, None] / GREY_LEVELS


def _brightness_coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
    return (path - center[None]).mean(1) * GREY_LEVELS


def _contrast(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    return 0.5 + (x - 0.5) * (1.0 + offsets[:, None] / 100.0)


def _contrast_coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
    """The least-squares contrast factor of each path point about the centre, as a percent change."""
    centred = center - 0.5
    scale = ((path - 0.5) @ centred) / max(float(centred @ centred), 1e-12)
    return (scale - 1.0) * 100.0


SLICE_AXES = (
    SliceAxis("brightness", "brightness", "grey levels", 8.0, _brightness, _brightness_coordinate),
    SliceAxis("contrast", "contrast", "%", 10.0, _contrast, _contrast_coordinate),
)
