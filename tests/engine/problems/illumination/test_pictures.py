"""The illumination problem's pictures: every panel's shape and type, the signed difference's colours, and the
lights drawn on the sphere (the truth a ring, the estimate a disc in front and a ring behind)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.problems.illumination import SPEC
from engine.problems.illumination.pictures import (
    ESTIMATED_LIGHT,
    MARKER_SHARE,
    OBSERVATION_BRIGHTER,
    RENDERING_BRIGHTER,
    SPHERE_SHARE,
    TRUE_LIGHT,
    TRUTH_RING,
    as_uint8,
    difference_image,
    light_sphere_image,
)

SIZE = 64


def image(seed: int, height: int = SIZE, width: int = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)


def pixel_at(light: np.ndarray, size: int = SIZE) -> tuple[int, int]:
    """(row, column) of the pixel a light on the sphere picture is drawn at."""
    radius = 0.5 * SPHERE_SHARE * size
    return int(size / 2 - light[1] * radius), int(size / 2 + light[0] * radius)


@pytest.mark.parametrize("truth", [np.array([0.0, 0.6, 0.8], dtype=np.float32), None])
def test_every_panel_draws_an_rgb_picture(truth):
    observation, rendering = image(0), image(1)
    x = np.array([0.3, 0.4, 0.87], dtype=np.float32)
    assert [panel.key for panel in SPEC.panels] == ["rendering", "difference", "light"]
    for panel in SPEC.panels:
        picture = panel.draw(observation, rendering, x, truth)
        assert picture.shape == (SIZE, SIZE, 3) and picture.dtype == np.uint8, panel.key
    assert np.array_equal(SPEC.panels[0].draw(observation, rendering, x, truth), as_uint8(rendering))
    assert np.array_equal(SPEC.draw_observation(observation), as_uint8(observation))


def test_as_uint8():
    values = np.array([[[-0.5, 0.0, 0.5]], [[1.0, 1.5, 0.2]]], dtype=np.float32)
    assert as_uint8(values).tolist() == [[[0, 0, 128]], [[255, 255, 51]]]
    already = np.full((2, 2, 3), 7, dtype=np.uint8)
    assert as_uint8(already) is already


def test_difference_is_red_where_the_observation_is_brighter_and_black_where_equal():
    observation = np.full((4, 4, 3), 0.5, dtype=np.float32)
    rendering = observation.copy()
    rendering[0] = 0.2  # observation brighter by 0.3: full strength after the gain of 4
    rendering[1] = 0.45  # observation brighter by 0.05: a fifth of it
    rendering[2] = 0.9  # rendering brighter
    picture = difference_image(observation, rendering)
    assert picture.shape == (4, 4, 3) and picture.dtype == np.uint8
    assert (picture[0] == OBSERVATION_BRIGHTER.astype(np.uint8)).all()
    assert np.allclose(picture[1], 0.2 * OBSERVATION_BRIGHTER, atol=1)
    assert (picture[2] == RENDERING_BRIGHTER.astype(np.uint8)).all()
    assert (picture[3] == 0).all()
    as_bytes = difference_image(as_uint8(observation), as_uint8(rendering))  # uint8 images: the same picture
    assert np.abs(as_bytes.astype(int) - picture.astype(int)).max() <= 4


def test_light_sphere_draws_the_estimate_at_its_projection():
    x = np.array([0.5, -0.3, 0.81], dtype=np.float32)
    truth = np.array([-0.4, 0.4, 0.82], dtype=np.float32)
    picture = light_sphere_image(x, truth, (SIZE, SIZE))
    assert picture.shape == (SIZE, SIZE, 3) and picture.dtype == np.uint8
    assert tuple(picture[pixel_at(x)]) == ESTIMATED_LIGHT
    row, col = pixel_at(truth)
    ring = 0.8 * TRUTH_RING * MARKER_SHARE * SIZE  # the truth is a ring around its projection, its centre open
    assert tuple(picture[row, int(col + ring)]) == TRUE_LIGHT and tuple(picture[row, col]) != TRUE_LIGHT
    assert tuple(picture[0, 0]) == (0, 0, 0)  # outside the sphere
    # The sphere is lit from the estimate's side: brighter towards +x, -y than towards -x, +y.
    lit, dark = picture[40, 44], picture[24, 20]
    assert int(lit[0]) > int(dark[0])
    assert light_sphere_image(x, None, (SIZE, SIZE))[row, int(col + ring)].tolist() != list(TRUE_LIGHT)


def test_a_light_behind_the_sphere_is_a_ring():
    behind = np.array([0.2, 0.1, -0.97], dtype=np.float32)
    picture = light_sphere_image(behind, None, (SIZE, SIZE))
    row, col = pixel_at(behind)
    assert tuple(picture[row, col]) != ESTIMATED_LIGHT  # not a disc: the centre is not drawn
    marker = MARKER_SHARE * SIZE
    radius = 0.5 * SPHERE_SHARE * SIZE
    centre = (SIZE / 2 - behind[1] * radius, SIZE / 2 + behind[0] * radius)
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    distance = np.hypot(rows - centre[0], cols - centre[1])
    drawn = (picture == np.array(ESTIMATED_LIGHT, dtype=np.uint8)).all(axis=-1)
    assert drawn.any() and (np.abs(distance[drawn] - 0.8 * marker) <= 0.25 * marker + 1e-6).all()
    front = light_sphere_image(behind * np.array([1, 1, -1], dtype=np.float32), None, (SIZE, SIZE))
    assert tuple(front[row, col]) == ESTIMATED_LIGHT  # the same light in front: a filled disc


def test_pictures_of_a_non_square_size():
    picture = light_sphere_image(np.array([0.0, 0.0, 1.0]), None, (40, 64))
    assert picture.shape == (40, 64, 3)
    assert SPEC.panels[2].draw(image(0, 40, 64), image(1, 40, 64), np.array([0.0, 0.0, 1.0]), None).shape == (40, 64, 3)
