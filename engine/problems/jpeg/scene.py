"""The built-in clean image when the user opens none: a procedural scene of what JPEG blocks show on (sharp
edges of discs and boxes, smooth gradients, fine stripes, a little texture), the same for the same seed."""
from __future__ import annotations

import numpy as np


def procedural_scene(side: int, seed: int = 0, colour: bool = False) -> np.ndarray:
    """(side, side) grey or (side, side, 3) RGB, float32 in [0, 1] on 8-bit levels, as an opened image's."""
    rng = np.random.default_rng(seed)
    y, x = (np.mgrid[0:side, 0:side] + 0.5) / side
    angle = rng.uniform(0, np.pi)
    image = 0.35 + 0.3 * (np.cos(angle) * x + np.sin(angle) * y)
    for _ in range(4):
        cx, cy, radius = rng.uniform(0.15, 0.85, 2).tolist() + [rng.uniform(0.08, 0.22)]
        image = np.where((x - cx) ** 2 + (y - cy) ** 2 < radius ** 2, rng.uniform(0.05, 0.95), image)
    left, top = rng.uniform(0.05, 0.55, 2)
    inside = (x > left) & (x < left + 0.35) & (y > top) & (y < top + 0.25)
    image = np.where(inside, 0.5 + 0.4 * np.sign(np.sin(2 * np.pi * 12 * (x + y))), image)
    image = image + 0.03 * rng.standard_normal((side, side))
    image = np.clip(image, 0.0, 1.0)
    if colour:
        tint = rng.uniform(0.6, 1.0, 3)
        image = np.stack([image * tint[0], image[::-1] * tint[1], (1 - image) * tint[2]], axis=-1)
    return (np.round(image * 255.0) / 255.0).astype(np.float32)
