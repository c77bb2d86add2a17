"""One pyrender renderer of each kind per camera for the whole process (each owns a GL thread)."""
from __future__ import annotations

import functools

from ..camera import Camera
from .pyrender_shaded import PyrenderShadedRenderer
from .pyrender_silhouette import PyrenderSilhouetteRenderer


@functools.lru_cache(maxsize=4)
def shared_silhouette_renderer(camera: Camera) -> PyrenderSilhouetteRenderer:
    """The process-wide renderer for this camera, created on first use."""
    return PyrenderSilhouetteRenderer(camera)


@functools.lru_cache(maxsize=4)
def shared_shaded_renderer(camera: Camera) -> PyrenderShadedRenderer:
    """The process-wide shaded renderer (colour and depth with shadows) for this camera, created on first use."""
    return PyrenderShadedRenderer(camera)
