"""Textures allocated once at start-up and written in place: deleting or re-creating a texture that is on
screen can crash Dear PyGui, and images of any size are shown at one display size anyway."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

DISPLAY_SIZE = 128
"""Side of every image texture, in pixels; images are resampled to it (nearest neighbour)."""


def _nearest_indices(size: int) -> np.ndarray:
    return (np.arange(DISPLAY_SIZE) * size) // DISPLAY_SIZE


class TexturePool:
    """Named RGB textures of DISPLAY_SIZE x DISPLAY_SIZE; write() replaces a texture's picture."""

    def __init__(self, registry: int | str):
        self.registry = registry
        self.buffers: dict[str, np.ndarray] = {}

    def add(self, tag: str) -> str:
        buffer = np.zeros(DISPLAY_SIZE * DISPLAY_SIZE * 3, dtype=np.float32)
        dpg.add_raw_texture(DISPLAY_SIZE, DISPLAY_SIZE, buffer, format=dpg.mvFormat_Float_rgb, tag=tag,
                            parent=self.registry)
        self.buffers[tag] = buffer
        return tag

    def write(self, tag: str, image: np.ndarray) -> None:
        """image: (H, W, 3) uint8, or (H, W) uint8 / float in [0, 1] shown in grey."""
        if image.ndim == 2:
            image = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
            image = np.repeat(image[..., None], 3, axis=2)
        if image.shape[:2] != (DISPLAY_SIZE, DISPLAY_SIZE):
            image = image[_nearest_indices(image.shape[0])][:, _nearest_indices(image.shape[1])]
        view = self.buffers[tag].reshape(DISPLAY_SIZE, DISPLAY_SIZE, 3)
        np.multiply(image, np.float32(1.0 / 255.0), out=view, casting="unsafe")
        dpg.set_value(tag, self.buffers[tag])

    def clear(self, tag: str) -> None:
        self.buffers[tag][:] = 0.0
        dpg.set_value(tag, self.buffers[tag])
