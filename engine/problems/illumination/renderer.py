"""One pyrender shaded renderer per camera for the whole process (each owns a GL thread)."""
from __future__ import annotations

import functools

from ...camera import Camera
from ...render.pyrender_shaded import PyrenderShadedRenderer


@functools.lru_cache(maxsize=4)
def shared_shaded_renderer(camera: Camera) -> PyrenderShadedRenderer:
    """The process-wide shaded renderer for this camera, created on first use."""
    return PyrenderShadedRenderer(camera)
