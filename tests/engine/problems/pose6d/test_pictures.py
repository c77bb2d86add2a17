from __future__ import annotations

import numpy as np

from engine.problems.pose6d.pictures import DIFFERENCE_COLOURS, OVERLAY_COLOURS, PANELS, difference_image, overlay_image


def _pair():
    observation = np.zeros((4, 4), np.float32)
    observation[:2] = 1.0
    rendering = np.zeros((4, 4), np.uint8)
    rendering[:, :2] = 255
    return observation, rendering


def test_colours_per_case():
    observation, rendering = _pair()
    difference = difference_image(observation, rendering)
    assert difference.shape == (4, 4, 3) and difference.dtype == np.uint8
    assert (difference[0, 0] == DIFFERENCE_COLOURS[3]).all() and (difference[0, 3] == DIFFERENCE_COLOURS[1]).all()
    assert (difference[3, 0] == DIFFERENCE_COLOURS[2]).all() and (difference[3, 3] == 0).all()
    overlay = overlay_image(observation, rendering)
    assert (overlay[0, 3] == OVERLAY_COLOURS[1]).all() and (overlay[0, 0] == OVERLAY_COLOURS[3]).all()


def test_panels_accept_float_and_uint8():
    observation, rendering = _pair()
    x = np.zeros(7, np.float32)
    as_uint8 = [panel.draw(observation, rendering, x, None) for panel in PANELS]
    as_float = [panel.draw((observation * 255).astype(np.uint8), rendering.astype(np.float32) / 255, x, None)
                for panel in PANELS]
    assert len(as_uint8) == len(PANELS) == 3
    for a, b in zip(as_uint8, as_float):
        assert a.shape == (4, 4, 3) and np.array_equal(a, b)
