"""The pictures the engine renders for the columns (spec.rendered_panels): kept by what they show (panel,
viewpoint, estimate, ground truth), so that scrubbing back over them, or two solvers at the same estimate, cost
nothing; which requests the engine has not answered; and the orbit a mouse drag turns. No Dear PyGui here."""
from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field

import numpy as np

from engine.problems.spec import Viewpoint
from engine.worker import protocol as p

MAX_BYTES = 64 * 2**20
"""Pictures kept, in bytes (about 1,300 of pose6d's 128 px views); the least recently shown go first."""
DEFAULT_ORBIT = Viewpoint(math.radians(35.0), math.radians(20.0))
"""Where the orbit starts: beside and above the camera, so that switching to it shows depth at once."""
RADIANS_PER_PIXEL = math.radians(0.5)
"""How far a drag of one pixel turns the orbit."""
MAX_ELEVATION = math.radians(89.0)

Key = tuple[str, Viewpoint, bytes, "bytes | None"]


def picture_key(panel: str, x: np.ndarray, truth: np.ndarray | None, viewpoint: Viewpoint) -> Key:
    """What a rendered picture shows, and so what it is kept by."""
    return (panel, viewpoint, np.asarray(x, np.float32).tobytes(),
            None if truth is None else np.asarray(truth, np.float32).tobytes())


def turned(start: Viewpoint, dx: float, dy: float) -> Viewpoint:
    """The orbit after a drag of (dx, dy) pixels from `start`, as if the object were grabbed: dragging right turns
    its front to the right (the camera goes left), dragging down shows more of its top (the camera rises, up to
    MAX_ELEVATION)."""
    elevation = min(max(start.elevation + dy * RADIANS_PER_PIXEL, -MAX_ELEVATION), MAX_ELEVATION)
    return Viewpoint(start.azimuth - dx * RADIANS_PER_PIXEL, elevation)


@dataclass
class RenderedPictures:
    """Pictures by Key, the requests in flight (Key -> the tag the engine echoes) and the failures."""

    pictures: collections.OrderedDict[Key, np.ndarray] = field(default_factory=collections.OrderedDict)
    in_flight: dict[Key, int] = field(default_factory=dict)
    failed: dict[Key, str] = field(default_factory=dict)
    """Pictures the engine could not draw (asked for once only), with its reason."""
    errors_said: set[str] = field(default_factory=set)
    _tags: int = 0
    _bytes: int = 0

    def get(self, key: Key) -> np.ndarray | None:
        picture = self.pictures.get(key)
        if picture is not None:
            self.pictures.move_to_end(key)
        return picture

    def wants(self, key: Key) -> bool:
        """Not drawn, not asked for, not failed."""
        return key not in self.pictures and key not in self.in_flight and key not in self.failed

    def request(self, panel: str, x: np.ndarray, truth: np.ndarray | None, viewpoint: Viewpoint) -> p.RenderPanel:
        """The command that asks the engine for the picture, counted as in flight."""
        self._tags += 1
        self.in_flight[picture_key(panel, x, truth, viewpoint)] = self._tags
        return p.RenderPanel(panel, np.asarray(x, np.float32), truth, viewpoint, self._tags)

    def take(self, result: p.PanelRendered) -> str | None:
        """Keeps an answer to a request in flight (others are stale: asked before clear()); returns the engine's
        reason for a failure the app has not said yet, else None."""
        request = result.request
        key = picture_key(request.panel, request.x, request.ground_truth, request.viewpoint)
        if self.in_flight.get(key) != request.tag:
            return None
        del self.in_flight[key]
        if result.image is None:
            self.failed[key] = result.error
            if result.error in self.errors_said:
                return None
            self.errors_said.add(result.error)
            return f"{request.panel} not drawn: {result.error}"
        self.pictures[key] = result.image
        self._bytes += result.image.nbytes
        while self._bytes > MAX_BYTES and len(self.pictures) > 1:
            self._bytes -= self.pictures.popitem(last=False)[1].nbytes
        return None

    def forget_requests(self) -> None:
        """A new engine answers none of the requests sent to the old one."""
        self.in_flight.clear()

    def clear(self) -> None:
        """Another problem, config, inputs or run: the pictures and the requests no longer apply."""
        self.pictures.clear()
        self.in_flight.clear()
        self.failed.clear()
        self.errors_said.clear()
        self._bytes = 0
