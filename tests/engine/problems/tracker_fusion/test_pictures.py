"""Fig. 3's pictures: the tracker boxes, truth and estimate; the top-left corner's energy over the frame."""
from __future__ import annotations

import numpy as np

from engine.problems.registry import get_problem
from engine.problems.tracker_fusion import pictures
from engine.problems.tracker_fusion.energy import untrained_weights
from engine.problems.tracker_fusion.problem import TrackerFusionConfig, make_problem


def item():
    problem = make_problem(TrackerFusionConfig(energy="untrained", sequences=4, frame=3), "cpu", 1)
    return problem.forward(problem.truth)[0].numpy(), problem.truth[0].numpy()


def colour_share(image: np.ndarray, rgb) -> float:
    return float((np.abs(image.astype(int) - np.array(rgb)).sum(-1) < 60).mean())


def test_boxes_picture_shows_trackers_truth_and_estimate():
    observation, truth = item()
    image = pictures.boxes_picture(observation, truth + 30.0, truth)
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    for rgb in (pictures.TRACKER_RGB, pictures.TRUTH_RGB, pictures.ESTIMATE_RGB):
        assert colour_share(image, rgb) > 1e-4, rgb
    assert colour_share(pictures.boxes_picture(observation, None, None), pictures.TRUTH_RGB) < 1e-4


def test_heat_map_has_its_lowest_energy_near_the_true_corner():
    observation, truth = item()
    values = pictures.corner_energy_map(observation, untrained_weights())
    assert values.shape == (480 // pictures.HEAT_STEP, 640 // pictures.HEAT_STEP)
    row, column = np.unravel_index(values.argmin(), values.shape)
    lowest = (np.array([column, row]) + 0.5) * pictures.HEAT_STEP
    assert np.linalg.norm(lowest - truth[:2]) < 30


def test_every_panel_draws_under_the_config_and_a_missing_file_is_a_message(tmp_path):
    from engine.problems.spec import config_to_dict

    observation, truth = item()
    config = config_to_dict(TrackerFusionConfig())
    boxes, energy = (panel.picture(observation, observation, truth, truth, config)
                     for panel in get_problem("tracker-fusion").panels)
    assert boxes.shape == (240, 320, 3) and boxes.dtype == np.uint8
    assert energy.shape == (240, 640, 3), "the energy before training beside the configured one (Fig. 3)"
    untrained_only = get_problem("tracker-fusion").panels[1].picture(observation, observation, truth, truth,
                                                                     dict(config, energy="untrained"))
    np.testing.assert_array_equal(untrained_only, energy[:, :320])
    untrained = pictures.energy_picture(observation, truth, truth, "untrained")
    assert not np.array_equal(untrained, pictures.energy_picture(observation, truth, truth, "trained"))
    message = pictures.energy_picture(observation, truth, truth, str(tmp_path / "none.safetensors"))
    assert message.shape == (240, 320, 3) and colour_share(message, pictures.ESTIMATE_RGB) == 0
