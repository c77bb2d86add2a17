"""The illumination problem's pictures per solver, on screen and in recordings: the rendering at the estimate,
its signed difference from the observation, and the lights drawn on a sphere (the paper's Fig. 6 style: a ball
lit by the estimated light, with where the true and the estimated light are). NumPy only; (H, W, 3) uint8 out."""
from __future__ import annotations

import numpy as np

from ..spec import Legend, Panel

DIFFERENCE_GAIN = 4.0
"""The signed difference is shown this many times brighter: shading differences are small."""
OBSERVATION_BRIGHTER = np.array((235, 60, 60), dtype=np.float32)
RENDERING_BRIGHTER = np.array((60, 120, 255), dtype=np.float32)
TRUE_LIGHT = (60, 220, 90)
ESTIMATED_LIGHT = (250, 196, 60)
SPHERE_SHARE = 0.8
"""The unit sphere's diameter as a share of the picture's side."""
MARKER_SHARE = 0.045
"""The estimated light's marker radius as a share of the picture's side."""
TRUTH_RING = 1.8
"""The true light's ring is this much larger, so that the estimate's disc shows inside it when they agree."""


def as_uint8(image: np.ndarray) -> np.ndarray:
    """An RGB image in [0, 1] (or already uint8) as uint8."""
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def _unit(image: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] from a float or uint8 image."""
    return image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)


def difference_image(observation: np.ndarray, rendering: np.ndarray) -> np.ndarray:
    """Red where the observation is brighter, blue where the rendering is, black where they agree."""
    signed = (_unit(observation) - _unit(rendering)).mean(axis=-1)
    strength = np.clip(np.abs(signed) * DIFFERENCE_GAIN, 0.0, 1.0)[..., None]
    colour = np.where(signed[..., None] > 0, OBSERVATION_BRIGHTER, RENDERING_BRIGHTER)
    return (strength * colour).round().astype(np.uint8)


def light_sphere_image(x: np.ndarray, truth: np.ndarray | None, size: tuple[int, int]) -> np.ndarray:
    """The unit sphere seen from the camera, lit from the estimate's direction; a green ring marks the true light,
    an orange disc the estimated one (a ring when it is behind the sphere's centre plane)."""
    height, width = size
    side = min(height, width)
    radius = 0.5 * SPHERE_SHARE * side
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    u, v = (cols - width / 2) / radius, (height / 2 - rows) / radius
    inside = u * u + v * v <= 1.0
    normal = np.stack([u, v, np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, 1.0))], axis=-1)
    direction = x / max(float(np.linalg.norm(x)), 1e-9)
    brightness = 0.12 + 0.88 * np.clip(normal @ direction.astype(np.float32), 0.0, 1.0)
    picture = np.zeros((height, width, 3), dtype=np.float32)
    picture[inside] = (brightness[inside] ** (1 / 2.2))[:, None] * 200.0
    if truth is not None:
        _mark(picture, u, v, truth, TRUE_LIGHT, TRUTH_RING * MARKER_SHARE * side / radius, ring=True)
    _mark(picture, u, v, x, ESTIMATED_LIGHT, MARKER_SHARE * side / radius, ring=x[2] < 0)
    return picture.round().clip(0, 255).astype(np.uint8)


def _mark(picture: np.ndarray, u: np.ndarray, v: np.ndarray, light: np.ndarray, colour: tuple[int, int, int],
          size: float, ring: bool) -> None:
    """A disc or a ring of radius `size` at the light's projection; u, v: each pixel's place in units of the
    sphere's radius (as `size`)."""
    distance = np.hypot(u - light[0], v - light[1])
    shape = np.abs(distance - 0.8 * size) <= 0.25 * size if ring else distance <= size
    picture[shape] = colour


PANELS = (
    Panel("rendering", "rendering", lambda observation, rendering, x, truth: as_uint8(rendering)),
    Panel("difference", "observation - rendering",
          lambda observation, rendering, x, truth: difference_image(observation, rendering)),
    Panel("light", "light on the unit sphere",
          lambda observation, rendering, x, truth: light_sphere_image(x, truth, observation.shape[:2])),
)
"""The pictures of a solver's column, in order."""
LEGEND = Legend("", (("observation brighter", tuple(int(c) for c in OBSERVATION_BRIGHTER)),
                     ("rendering brighter", tuple(int(c) for c in RENDERING_BRIGHTER)),
                     ("true light", TRUE_LIGHT), ("estimated light", ESTIMATED_LIGHT)))
