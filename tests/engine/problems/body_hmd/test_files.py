"""Signal files and typed estimates: the documented .npy and .json layouts, and every bad file in one line."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.problems.body_hmd import sensors
from engine.problems.body_hmd.files import load_observation, parse_x, save_observation
from engine.problems.body_hmd.problem import X_DIM, BodyHmdConfig, make_problem


def _signals(count: int = 3, visibility: str = "half-space") -> np.ndarray:
    problem = make_problem(BodyHmdConfig(visibility=visibility), count)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    return problem.forward(truth).numpy()


@pytest.mark.parametrize("suffix", [".npy", ".json"])
def test_round_trip(tmp_path, suffix):
    path = str(tmp_path / f"signals{suffix}")
    save_observation(path, _signals())
    np.testing.assert_allclose(load_observation(path), _signals(), atol=1e-6)


def test_json_names_its_fields_and_reads_one_item(tmp_path):
    path = tmp_path / "signals.json"
    save_observation(str(path), _signals(1))
    frame = json.loads(path.read_text())["frames"][0]
    assert set(frame) == {"headset", "left_hand", "right_hand", "betas"}
    one = tmp_path / "one.json"
    one.write_text(json.dumps(frame))
    np.testing.assert_allclose(load_observation(str(one)), _signals(1), atol=1e-6)


def test_an_invisible_hands_numbers_are_ignored(tmp_path):
    values = _signals(1)
    values[0, sensors.SLICES["visible"]] = (0.0, 1.0)
    values[0, sensors.SLICES["left_fingertips"]] = 7.0
    path = tmp_path / "hidden.npy"
    np.save(path, values)
    assert float(np.abs(load_observation(str(path))[0, sensors.SLICES["left_fingertips"]]).max()) == 0.0


def _bad_npy(tmp_path, change) -> str:
    values = _signals(2)
    change(values)
    path = tmp_path / "bad.npy"
    np.save(path, values)
    return str(path)


def _set(field: str, value, item: int = 1):
    def change(values: np.ndarray) -> None:
        values[item, sensors.SLICES[field]] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("visible", (0.5, 1.0)), "item 1's visibility flags must be 1"),
    (_set("headset_rotation", np.eye(3).ravel() * 2), "item 1's headset rotation is not a rotation"),
    (_set("headset_rotation", np.diag([1.0, 1.0, -1.0]).ravel()), "headset rotation is not a rotation"),
    (_set("betas", 9.0), "betas go beyond"),
    (_set("headset_position", np.nan), "NaN"),
])
def test_bad_npy_values(tmp_path, change, message):
    path = _bad_npy(tmp_path, change)
    with pytest.raises(ValueError, match=message) as error:
        load_observation(path)
    assert path in str(error.value) and "\n" not in str(error.value)


def test_bad_wrist_rotation_of_a_visible_hand(tmp_path):
    values = _signals(2, "full")
    values[0, sensors.SLICES["right_wrist_rotation"]] = 0.0
    path = tmp_path / "wrist.npy"
    np.save(path, values)
    with pytest.raises(ValueError, match="item 0's right wrist rotation"):
        load_observation(str(path))


def test_wrong_length_and_missing_files(tmp_path):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((2, 77), np.float32))
    with pytest.raises(ValueError, match="expected device signals of shape"):
        load_observation(str(wrong))
    with pytest.raises(ValueError, match="no such"):
        load_observation(str(tmp_path / "missing.json"))


def _json(tmp_path, content) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def _frame() -> dict:
    return {"headset": {"position": [0, 1.6, 0], "rotation": np.eye(3).tolist()},
            "left_hand": {"visible": False}, "right_hand": {"visible": False}, "betas": []}


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a readable JSON"),
    ([1, 2, 3], "expected a JSON object"),
    ({"frames": []}, "expected a JSON object"),
    ({**_frame(), "headset": {"position": [0, 1]}}, r"item 0 .*headset position must have shape"),
    ({**_frame(), "right_hand": {"visible": True}}, r"item 0 .*no 'wrist'"),
    ({**_frame(), "left_hand": {"visible": "yes"}}, "visible must be true or false"),
    ({**_frame(), "betas": [0.0] * 11}, "at most 10 betas"),
    ({"frames": [_frame(), {**_frame(), "headset": {"position": [0, 1, 0], "rotation": np.ones((3, 3)).tolist()}}]},
     "item 1's headset rotation is not a rotation"),
])
def test_bad_json_files(tmp_path, content, message):
    path = _json(tmp_path, content)
    with pytest.raises(ValueError, match=message) as error:
        load_observation(path)
    assert path in str(error.value) and "\n" not in str(error.value)


def test_estimates_from_text():
    squat = parse_x("squat")
    assert squat.shape == (1, X_DIM)
    lowest = make_problem(BodyHmdConfig(betas=(0.0,)), 1).posed(squat).vertices[..., 1].min()
    assert abs(float(lowest)) < 1e-5  # standing on the floor
    assert parse_x(",".join(["0"] * X_DIM)).shape == (1, X_DIM)
    with pytest.raises(ValueError, match="has 158 numbers"):
        parse_x(",".join(["0"] * 158))
    with pytest.raises(ValueError, match="is not a body-hmd estimate"):
        parse_x("moonwalk")
