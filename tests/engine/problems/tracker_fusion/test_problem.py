"""The problem: its config, frames, forward process, energy, metrics, and what users type and load."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.problems.registry import get_problem
from engine.problems.spec import make_config
from engine.npfiles import save_npy as save_observation
from engine.problems.tracker_fusion.files import format_box, load_observation, parse_box
from engine.problems.tracker_fusion.problem import TrackerFusionConfig, make_problem

SPEC = get_problem("tracker-fusion")
SMALL = TrackerFusionConfig(energy="untrained", sequences=4)


def test_a_batch_of_frames_and_its_observation(device):
    problem = make_problem(SMALL, device, 3)
    truth = problem.sample_ground_truth(torch.Generator())
    observation = problem.forward(truth)
    assert observation.shape == (3, 72, 5) and observation.device.type == device.type
    assert (observation[:, :, 4] == observation[:, :1, 4]).all() and (observation[:, 0, 4] >= 1).all()
    again = make_problem(SMALL.__class__(energy="untrained", sequences=4, frame=1), device, 2)
    torch.testing.assert_close(again.truth, problem.truth[1:])
    metrics = problem.metrics(truth, observation, observation, truth)
    assert (metrics["iou"] == 1).all() and (metrics["corner_error_px"] == 0).all() and not metrics["lost"].any()
    assert problem.metrics(truth, observation, observation, None) == {}


def test_the_energy_reads_time_from_the_observation():
    problem = make_problem(SMALL, "cpu", 2)
    weights = {name: value.clone() for name, value in problem.weights.items()}
    weights["decay"] += 1.0
    decaying = problem.with_weights(weights)
    observation = problem.forward(problem.truth)
    later = observation.clone()
    later[:, :, 4] += 50
    x = problem.truth + 5.0
    assert (decaying.energy(None, later, x) < decaying.energy(None, observation, x)).all()
    torch.testing.assert_close(problem.energy(None, later, x), problem.energy(None, observation, x))


@pytest.mark.parametrize("values, message", [
    ({"partition": "days"}, "--partition 'days'"), ({"split": "val"}, "--split 'val'"),
    ({"energy": " "}, "--energy"), ({"sequences": 1}, "--sequences must be"),
])
def test_bad_settings_are_one_line(values, message):
    with pytest.raises(ValueError, match=message):
        make_config(TrackerFusionConfig, values)


def test_a_missing_weights_file_is_one_line(tmp_path):
    config = TrackerFusionConfig(energy=str(tmp_path / "none.safetensors"), sequences=4)
    with pytest.raises(ValueError, match="no such energy weights file"):
        make_problem(config)


def test_boxes_as_text():
    box = parse_box("10,20,110,220.5")
    assert box.shape == (1, 4) and parse_box(format_box(box[0].numpy())).tolist() == box.tolist()
    for text, message in (("1,2,3", "four numbers"), ("a,b,c,d", "four numbers"), ("1,2,3,nan", "four numbers"),
                          ("50,20,10,220", "top-left corner")):
        with pytest.raises(ValueError, match=message):
            parse_box(text)


def test_observation_files(tmp_path):
    problem = make_problem(SMALL, "cpu", 2)
    observation = problem.forward(problem.truth).numpy()
    path = str(tmp_path / "boxes.npy")
    save_observation(path, observation)
    np.testing.assert_array_equal(load_observation(path), observation)
    np.save(path, observation[0])
    assert load_observation(path).shape == (1, 72, 5)
    bad = observation.copy()
    bad[0, 3, 4] += 1
    np.save(path, observation.round().astype(int))
    assert load_observation(path).dtype == np.float32  # whole pixels are boxes too
    cases = {"wrong.npz": None, "shape.npy": observation[:, :, :4], "time.npy": bad,
             "text.npy": observation.astype(str), "nan.npy": np.full_like(observation, np.nan)}
    for name, array in cases.items():
        target = tmp_path / name
        if array is not None:
            np.save(target, array)
        with pytest.raises(ValueError) as error:
            load_observation(str(target))
        assert str(target) in str(error.value) and "\n" not in str(error.value)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="not a NumPy"):
        load_observation(str(tmp_path / "junk.npy"))
    with pytest.raises(ValueError, match="no such observation file"):
        load_observation(str(tmp_path / "none.npy"))
