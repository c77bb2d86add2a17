"""Textures sized from the pictures they show, allocated on first use and never deleted.

Deleting or re-creating a texture that is on screen can crash Dear PyGui (its issue 2159), and the pictures'
size depends on the problem and its config (pose6d: the image size; ik: its skeleton views). So a picture of a
new size gets a new texture of exactly that size, and the image widget is pointed at it; the old texture
stays allocated (unused) for when that size comes back. Only a handful of sizes ever occur, and pictures
larger than MAX_SIDE are shrunk by a whole factor first, which bounds the memory."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

MAX_SIDE = 400
"""Largest texture side; larger pictures are shrunk by a whole factor (nearest neighbour)."""
BLANK = "tex.blank"


class TexturePool:
    """RGB textures per (name, size); show() draws a picture into an image widget."""

    def __init__(self, registry: int | str):
        self.registry = registry
        self.buffers: dict[str, np.ndarray] = {}
        self.sizes: dict[str, tuple[int, int]] = {}
        """Texture tag -> (width, height)."""
        self._texture(BLANK, 8, 8)

    def _texture(self, tag: str, width: int, height: int) -> str:
        if tag not in self.buffers:
            buffer = np.zeros(width * height * 3, dtype=np.float32)
            dpg.add_raw_texture(width, height, buffer, format=dpg.mvFormat_Float_rgb, tag=tag, parent=self.registry)
            self.buffers[tag], self.sizes[tag] = buffer, (width, height)
        return tag

    def write(self, name: str, image: np.ndarray) -> str:
        """Writes image ((H, W, 3) uint8, or (H, W) uint8 / float in [0, 1] shown in grey) into the texture
        `name` of its size; returns that texture's tag."""
        image = _rgb(image)
        factor = max(1, -(-max(image.shape[:2]) // MAX_SIDE))
        image = image[::factor, ::factor]
        height, width = image.shape[:2]
        tag = self._texture(f"{name}@{width}x{height}", width, height)
        view = self.buffers[tag].reshape(height, width, 3)
        np.multiply(image, np.float32(1.0 / 255.0), out=view, casting="unsafe")
        dpg.set_value(tag, self.buffers[tag])
        return tag

    def show(self, item: int | str, name: str, image: np.ndarray, width: int) -> None:
        """Draws image into the image widget `item`, `width` pixels wide (height from the picture's aspect)."""
        tag = self.write(name, image)
        texture_width, texture_height = self.sizes[tag]
        dpg.configure_item(item, texture_tag=tag, width=width,
                           height=max(1, round(width * texture_height / texture_width)), show=True)


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
        image = np.repeat(image[..., None], 3, axis=2)
    return image
