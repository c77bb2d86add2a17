"""pose6d's pictures per solver, on screen and in recordings: estimate, overlay and difference images of a
rendering against the observation. NumPy only, (H, W) in, (H, W, 3) uint8 out."""
from __future__ import annotations

import numpy as np

from ..spec import Legend, Panel

DIFFERENCE_COLOURS = np.array([(0, 0, 0), (235, 60, 60), (60, 120, 255), (255, 255, 255)], dtype=np.uint8)
"""Indexed by observation set + 2 * rendering set: neither, observation only, estimate only, both."""
DIFFERENCE_LEGEND = (("observation only", 1), ("estimate only", 2), ("both", 3))
OBSERVATION_GREY = np.array((120, 120, 128), dtype=np.float32)
ESTIMATE_COLOUR = np.array((250, 196, 60), dtype=np.float32)
ESTIMATE_OPACITY = 0.55
OVERLAY_COLOURS = np.array(
    [(0, 0, 0), OBSERVATION_GREY, ESTIMATE_OPACITY * ESTIMATE_COLOUR,
     (1 - ESTIMATE_OPACITY) * OBSERVATION_GREY + ESTIMATE_OPACITY * ESTIMATE_COLOUR],
).round().astype(np.uint8)
"""The observation in grey with the estimate laid over it, translucent; indexed like DIFFERENCE_COLOURS."""


def _mask(image: np.ndarray) -> np.ndarray:
    """Binary mask of a float [0, 1] or uint8 [0, 255] silhouette."""
    threshold = 128 if image.dtype == np.uint8 else 0.5
    return image >= threshold


def _cases(observation: np.ndarray, rendering: np.ndarray) -> np.ndarray:
    """(H, W) uint8 index: observation set + 2 * rendering set."""
    return _mask(observation).view(np.uint8) | (_mask(rendering).view(np.uint8) << 1)


def estimate_image(rendering: np.ndarray) -> np.ndarray:
    """The rendering in grey levels."""
    values = rendering if rendering.dtype == np.uint8 else (np.clip(rendering, 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(values[..., None], 3, axis=2)


def overlay_image(observation: np.ndarray, rendering: np.ndarray) -> np.ndarray:
    """The observation in grey with the estimate laid over it (see OVERLAY_COLOURS)."""
    return np.take(OVERLAY_COLOURS, _cases(observation, rendering), axis=0)


def difference_image(observation: np.ndarray, rendering: np.ndarray) -> np.ndarray:
    """Colour-coded agreement of the two silhouettes (see DIFFERENCE_COLOURS)."""
    return np.take(DIFFERENCE_COLOURS, _cases(observation, rendering), axis=0)


PANELS = (
    Panel("estimate", "estimate", lambda observation, rendering, x, truth: estimate_image(rendering)),
    Panel("overlay", "overlay", lambda observation, rendering, x, truth: overlay_image(observation, rendering)),
    Panel("difference", "difference", lambda observation, rendering, x, truth: difference_image(observation, rendering)),
)
"""The pictures of a solver's column, in order."""
LEGEND = Legend("difference: ", tuple((label, tuple(int(c) for c in DIFFERENCE_COLOURS[index]))
                                      for label, index in DIFFERENCE_LEGEND))
