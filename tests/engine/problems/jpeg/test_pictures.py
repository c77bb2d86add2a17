"""The jpeg panels: the estimate, its JPEG, the magnified difference and the zoom that follows the cursor."""
import numpy as np

from engine.problems.jpeg import SPEC
from engine.problems.jpeg.pictures import BLOCK_LINE_RGB, ZOOM_SCALE, difference_picture, image_picture, zoom_picture

from .conftest import textured_image


def test_every_panel_draws_an_rgb_picture_of_one_item():
    clean = textured_image(40, 48)[None]
    observation = np.clip(clean + 0.02, 0, 1).astype(np.float32)
    for truth in (clean.reshape(-1), None):
        for panel in SPEC.panels:
            picture = panel.picture(observation, observation, clean.reshape(-1), truth, {}, (0.3, 0.7))
            assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3, panel.key


def test_the_difference_is_red_where_brighter_and_blue_where_darker():
    a = np.full((1, 4, 4), 0.5, np.float32)
    b = a.copy()
    b[0, 0, 0] = 0.3  # a brighter here
    b[0, 1, 1] = 0.7
    picture = difference_picture(a, b)
    assert tuple(picture[0, 0]) == (255, 0, 0) and tuple(picture[1, 1]) == (0, 0, 255)
    assert tuple(picture[2, 2]) == (255, 255, 255)


def test_the_zoom_follows_the_focus_and_draws_the_block_grid():
    image = np.zeros((1, 64, 64), np.float32)
    image[0, 40:, 40:] = 1.0  # bright bottom-right quarter
    top_left = zoom_picture([image], (0.0, 0.0), side=16, scale=2)
    bottom_right = zoom_picture([image], (1.0, 1.0), side=16, scale=2)
    assert top_left.shape == (32, 32, 3)
    assert bottom_right[20, 20].tolist() == [255, 255, 255] and top_left[20, 20].tolist() == [0, 0, 0]
    half_line = tuple(value // 2 for value in BLOCK_LINE_RGB)  # blended with the black under it
    assert tuple(top_left[0, 5]) == half_line and tuple(top_left[8 * 2, 5]) == half_line
    side_by_side = zoom_picture([image, image, image], (0.5, 0.5))
    assert side_by_side.shape[1] == 3 * 32 * ZOOM_SCALE + 2 * 4


def test_grey_and_colour_images_are_drawn_as_rgb():
    assert image_picture(np.ones((1, 2, 3), np.float32)).shape == (2, 3, 3)
    colour = np.zeros((3, 2, 2), np.float32)
    colour[0] = 1.0
    assert image_picture(colour)[0, 0].tolist() == [255, 0, 0]
