"""pose6d's 3D view: smoke, where the estimate appears, the ground truth's overlay only when it is known, orbits,
and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.problems.registry import get_problem
from engine.problems.spec import CAMERA_VIEW, Viewpoint
from engine.problems.pose6d.view3d import BACKGROUND, TRUTH_COLOUR, VIEW_SIZE, render_view
from engine.render.gl_backend import RendererUnavailable

IDENTITY = np.array([1, 0, 0, 0, 0, 0, 0], np.float32)


@pytest.fixture(scope="module")
def problem():
    spec = get_problem("pose6d")
    problem = spec.make(spec.config(image_size=64), {}, "cpu", 1)
    try:
        render_view(problem, IDENTITY, None, CAMERA_VIEW)
    except RendererUnavailable as error:
        pytest.skip(f"no headless OpenGL: {error}")
    return problem


def drawn(picture: np.ndarray) -> np.ndarray:
    """Pixels that are not background."""
    return (picture != BACKGROUND.astype(np.uint8)).any(axis=2)


def outlined(picture: np.ndarray) -> np.ndarray:
    return (picture == TRUTH_COLOUR.astype(np.uint8)).all(axis=2)


def silhouette(problem, x: np.ndarray) -> np.ndarray:
    """pyrender's silhouette of the problem at x, at the view's size."""
    mask = problem.forward(torch.from_numpy(x)[None])[0].numpy() > 0.5
    return np.asarray(Image.fromarray(mask).resize((VIEW_SIZE, VIEW_SIZE), Image.Resampling.NEAREST))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_smoke_shape_and_dtype(problem):
    picture = render_view(problem, IDENTITY, IDENTITY, CAMERA_VIEW)
    assert picture.shape == (VIEW_SIZE, VIEW_SIZE, 3) and picture.dtype == np.uint8
    assert drawn(picture).any() and not drawn(picture).all()


def test_the_estimate_appears_where_the_camera_sees_it(problem):
    """From the camera, the shaded estimate covers the estimate's silhouette, wherever the pose puts it."""
    for x in (IDENTITY, np.array([0.94, 0.2, 0.25, 0.1, 0.3, -0.2, 0.1], np.float32)):
        assert iou(drawn(render_view(problem, x, None, CAMERA_VIEW)), silhouette(problem, x)) > 0.9
    right = render_view(problem, np.array([1, 0, 0, 0, 0.4, 0, 0], np.float32), None, CAMERA_VIEW)
    columns = np.nonzero(drawn(right).any(axis=0))[0]
    centre = np.nonzero(drawn(render_view(problem, IDENTITY, None, CAMERA_VIEW)).any(axis=0))[0]
    assert columns.mean() > centre.mean() + 0.1 * VIEW_SIZE  # moved right, as +x is in the camera


def test_the_ground_truth_is_laid_over_only_when_known(problem):
    truth = np.array([0.97, 0.0, 0.26, 0.0, -0.3, 0.1, 0.0], np.float32)
    alone = render_view(problem, IDENTITY, None, CAMERA_VIEW)
    both = render_view(problem, IDENTITY, truth, CAMERA_VIEW)
    assert not outlined(alone).any() and outlined(both).any()
    truth_mask = silhouette(problem, truth)
    changed = (alone != both).any(axis=2)
    assert iou(changed, truth_mask) > 0.85  # the overlay changes the picture where the truth is, only there
    assert drawn(both)[truth_mask & ~drawn(alone)].mean() > 0.9  # seen where the estimate is not


def test_orbit_angles_change_the_picture(problem):
    camera = render_view(problem, IDENTITY, IDENTITY, CAMERA_VIEW)
    assert np.array_equal(camera, render_view(problem, IDENTITY, IDENTITY, Viewpoint(0.0, 0.0)))
    side = render_view(problem, IDENTITY, IDENTITY, Viewpoint(0.9, 0.0))
    above = render_view(problem, IDENTITY, IDENTITY, Viewpoint(0.0, 0.8))
    for turned in (side, above):
        assert iou(drawn(turned), drawn(camera)) < 0.9 and drawn(turned).any()
    assert not np.array_equal(side, above)


def test_an_offset_along_the_view_shows_from_the_side(problem):
    """Moving the estimate towards the camera hardly moves it in the camera's picture, but does seen from the
    side (azimuth 90 degrees: the camera's -z runs to the right of the picture)."""
    near = np.array([1, 0, 0, 0, 0, 0, 0.5], np.float32)
    side = Viewpoint(np.pi / 2, 0.0)

    def centre_column(x: np.ndarray, viewpoint: Viewpoint) -> float:
        return float(np.nonzero(drawn(render_view(problem, x, None, viewpoint)).any(axis=0))[0].mean())

    assert abs(centre_column(near, CAMERA_VIEW) - centre_column(IDENTITY, CAMERA_VIEW)) < 3
    assert centre_column(near, side) < centre_column(IDENTITY, side) - 0.1 * VIEW_SIZE


def test_bad_input(problem):
    with pytest.raises(ValueError, match=r"needs the estimate as 7 values \(qw,qx,qy,qz,tx,ty,tz\), got shape \(6,\)"):
        render_view(problem, np.zeros(6), None, CAMERA_VIEW)
    with pytest.raises(ValueError, match=r"ground truth as 7 values.*got shape \(1, 7\)"):
        render_view(problem, IDENTITY, IDENTITY[None], CAMERA_VIEW)
    with pytest.raises(ValueError, match="the estimate contains NaN or infinite values"):
        render_view(problem, np.full(7, np.nan), None, CAMERA_VIEW)
    spec = get_problem("pose6d")
    with pytest.raises(ValueError, match="draws one problem, not a batch of 2"):
        render_view(spec.make(spec.config(), {}, "cpu", 2), IDENTITY, None, CAMERA_VIEW)
