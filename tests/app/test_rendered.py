"""app/rendered.py: what a rendered picture is kept by, the orbit a drag turns, and the pictures and requests the
app holds (answers matched to requests by tag, failures said once, a byte budget)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from app import rendered as rendered_module
from app.rendered import MAX_ELEVATION, RADIANS_PER_PIXEL, RenderedPictures, picture_key, turned
from engine.problems.spec import CAMERA_VIEW, Viewpoint
from engine.worker import protocol as p

X = np.array([1, 0, 0, 0, 0, 0, 0], np.float32)
TRUTH = np.array([0.9, 0.1, 0, 0, 0.1, 0, 0], np.float32)


def answer(request: p.RenderPanel, image: np.ndarray | None = None, error: str = "") -> p.PanelRendered:
    return p.PanelRendered(request, np.zeros((4, 4, 3), np.uint8) if image is None and not error else image, error)


def test_a_picture_is_kept_by_what_it_shows():
    key = picture_key("view3d", X, TRUTH, CAMERA_VIEW)
    assert key == picture_key("view3d", X.astype(np.float64), TRUTH.copy(), Viewpoint(0.0, 0.0))
    others = [picture_key("view3d", X, None, CAMERA_VIEW), picture_key("view3d", X * 0.5, TRUTH, CAMERA_VIEW),
              picture_key("view3d", X, TRUTH, Viewpoint(0.1, 0.0)), picture_key("other", X, TRUTH, CAMERA_VIEW)]
    assert len({key, *others}) == 5


def test_a_drag_turns_the_orbit_as_if_the_object_were_grabbed():
    start = Viewpoint(0.3, 0.1)
    right = turned(start, 20, 0)
    assert right.azimuth == pytest.approx(0.3 - 20 * RADIANS_PER_PIXEL) and right.elevation == start.elevation
    down = turned(start, 0, 30)
    assert down.elevation == pytest.approx(0.1 + 30 * RADIANS_PER_PIXEL) and down.azimuth == start.azimuth
    assert turned(start, 0, 10_000).elevation == MAX_ELEVATION < math.pi / 2
    assert turned(start, 0, -10_000).elevation == -MAX_ELEVATION
    assert turned(start, 0, 0) == start


def test_requests_answers_and_stale_answers():
    pictures = RenderedPictures()
    key = picture_key("view3d", X, TRUTH, CAMERA_VIEW)
    assert pictures.wants(key) and pictures.get(key) is None
    first = pictures.request("view3d", X, TRUTH, CAMERA_VIEW)
    assert isinstance(first, p.RenderPanel) and first.panel == "view3d" and first.viewpoint == CAMERA_VIEW
    assert not pictures.wants(key) and pictures.in_flight == {key: first.tag}
    pictures.clear()  # e.g. another mesh: the answer to `first` will show the old one
    second = pictures.request("view3d", X, TRUTH, CAMERA_VIEW)
    assert second.tag != first.tag
    assert pictures.take(answer(first)) is None and pictures.get(key) is None  # stale: dropped
    image = np.full((4, 4, 3), 7, np.uint8)
    assert pictures.take(answer(second, image)) is None
    assert pictures.get(key) is image and not pictures.in_flight and not pictures.wants(key)
    pictures.request("view3d", X * 0.5, None, CAMERA_VIEW)
    pictures.forget_requests()  # a new engine: asked again
    assert not pictures.in_flight and pictures.wants(picture_key("view3d", X * 0.5, None, CAMERA_VIEW))


def test_a_failure_is_said_once_and_not_asked_again():
    pictures = RenderedPictures()
    estimates = [X, X * 0.5]
    keys = [picture_key("view3d", x, None, CAMERA_VIEW) for x in estimates]
    messages = [pictures.take(answer(pictures.request("view3d", x, None, CAMERA_VIEW), error="no OpenGL"))
                for x in estimates]
    assert messages == ["view3d not drawn: no OpenGL", None]
    assert not any(pictures.wants(key) for key in keys)
    pictures.clear()
    assert all(pictures.wants(key) for key in keys)


def test_the_least_recently_shown_pictures_go_beyond_the_budget(monkeypatch):
    monkeypatch.setattr(rendered_module, "MAX_BYTES", 3 * 48)
    pictures = RenderedPictures()
    estimates = [X * (i + 1) for i in range(4)]
    keys = [picture_key("view3d", x, None, CAMERA_VIEW) for x in estimates]
    for x in estimates[:3]:
        pictures.take(answer(pictures.request("view3d", x, None, CAMERA_VIEW)))
    pictures.get(keys[0])  # shown again: kept
    pictures.take(answer(pictures.request("view3d", estimates[3], None, CAMERA_VIEW)))
    assert [key in pictures.pictures for key in keys] == [True, False, True, True]
