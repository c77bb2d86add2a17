"""Pictures on screen as static textures, each uploaded once, when its picture changes.

Dear PyGui uploads every raw and dynamic texture again in every frame, shown or not, changed or not (under
software OpenGL, milliseconds per frame for the dozen pictures of a run). A static texture is uploaded once,
when it is made: so each new picture gets a new static texture of its own size, its image widget is pointed
at it, and the texture it replaces is deleted one refresh later, when no widget shows it any more (deleting a
texture that is on screen can crash Dear PyGui, its issue 2159). Pictures larger than MAX_SIDE are shrunk by
a whole factor first, which bounds the memory."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

MAX_SIDE = 400
"""Largest texture side; larger pictures are shrunk by a whole factor (nearest neighbour)."""
BLANK = "tex.blank"


class TexturePool:
    """The texture each named picture shows; show() draws a picture into an image widget."""

    def __init__(self, registry: int | str):
        self.registry = registry
        self.shown: dict[str, int | str] = {}
        """Picture name -> the texture its image widget shows."""
        self._replaced: list[int | str] = []
        """Textures no widget shows since the last collect(); deleted by the next one."""
        self.uploads = 0
        """Textures made so far (one upload each)."""
        dpg.add_static_texture(8, 8, np.zeros(8 * 8 * 4, np.float32), tag=BLANK, parent=registry)

    def show(self, item: int | str, name: str, image: np.ndarray, width: int) -> None:
        """Draws image ((H, W, 3) uint8, or (H, W) uint8 / float in [0, 1] shown in grey) into the image widget
        `item`, `width` pixels wide (height from the picture's aspect), as the picture `name`."""
        pixels = _rgba(image)
        height, texture_width = pixels.shape[:2]
        texture = dpg.add_static_texture(texture_width, height, pixels.ravel(), parent=self.registry)
        self.uploads += 1
        previous = self.shown.get(name)
        self.shown[name] = texture
        dpg.configure_item(item, texture_tag=texture, width=width,
                           height=max(1, round(width * height / texture_width)), show=True)
        if previous is not None:
            self._replaced.append(previous)

    def collect(self) -> None:
        """Deletes the textures replaced before the last frame was drawn (once per refresh, before drawing)."""
        for texture in self._replaced:
            dpg.delete_item(texture)
        self._replaced = []


def _rgba(image: np.ndarray) -> np.ndarray:
    """(H, W, 4) float32 in [0, 1], shrunk by a whole factor to at most MAX_SIDE."""
    if image.ndim == 2:
        image = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
        image = np.repeat(image[..., None], 3, axis=2)
    factor = max(1, -(-max(image.shape[:2]) // MAX_SIDE))
    image = image[::factor, ::factor]
    pixels = np.ones((*image.shape[:2], 4), np.float32)
    np.multiply(image[..., :3], np.float32(1.0 / 255.0), out=pixels[..., :3], casting="unsafe")
    return pixels
