"""Keypoint files and typed estimates: the documented .npy and .json layouts, and every bad file in one line."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.problems.body_keypoints.files import load_observation, parse_x, save_observation
from engine.problems.body_keypoints.problem import KEYPOINT_NAMES, X_DIM


def _keypoints(count: int = 2) -> np.ndarray:
    values = np.random.default_rng(0).uniform(-0.8, 0.8, (count, 35, 3)).astype(np.float32)
    values[..., 2] = 0.9
    return values


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".json"])
def test_round_trip(tmp_path, suffix):
    path = str(tmp_path / f"keypoints{suffix}")
    save_observation(path, _keypoints())
    np.testing.assert_allclose(load_observation(path), _keypoints(), atol=1e-6)


def test_one_item_json_without_names(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"keypoints": _keypoints(1)[0].tolist()}))
    assert load_observation(str(path)).shape == (1, 35, 3)


def _json(tmp_path, content) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a readable JSON"),
    ([1, 2, 3], "JSON object"),
    ({"keypoints": [[0.0, 0.0, 1.0]] * 17}, "shape"),
    ({"keypoints": "many"}, "shape|numbers"),
    ({"keypoints": [[0.0, 0.0, 1.0]] * 35, "keypoint_names": ["nose"] * 35}, "keypoint_names"),
    ({"keypoints": [[0.0, 0.0, 2.0]] * 35}, "confidences"),
    ({"keypoints": [[0.0, 0.0, 0.0]] * 35}, "no detected keypoint"),
])
def test_bad_json_files(tmp_path, content, message):
    path = _json(tmp_path, content)
    with pytest.raises(ValueError, match=message) as error:
        load_observation(path)
    assert path in str(error.value) and "\n" not in str(error.value)


def test_bad_npy_files(tmp_path):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((2, 24, 3), np.float32))
    with pytest.raises(ValueError, match="expected keypoints"):
        load_observation(str(wrong))
    nan = tmp_path / "nan.npy"
    values = _keypoints()
    values[0, 3, 0] = np.nan
    np.save(nan, values)
    with pytest.raises(ValueError, match="NaN"):
        load_observation(str(nan))
    with pytest.raises(ValueError, match="no such"):
        load_observation(str(tmp_path / "missing.json"))
    archive = tmp_path / "other.npz"
    np.savez(archive, points=_keypoints())
    with pytest.raises(ValueError, match="no array named"):
        load_observation(str(archive))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, keypoints=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickled.npz"):
        load_observation(str(pickled))


def test_estimates_from_text():
    assert parse_x("squat").shape == (1, X_DIM)
    numbers = ",".join(["0"] * 82 + ["1", "0", "0"])
    assert parse_x(numbers).shape == (1, X_DIM)
    with pytest.raises(ValueError, match="has 84 numbers"):
        parse_x(",".join(["0"] * 84))
    with pytest.raises(ValueError, match="betas"):
        parse_x(",".join(["0"] * 72 + ["9"] * 10 + ["1", "0", "0"]))
    with pytest.raises(ValueError, match="scale"):
        parse_x(",".join(["0"] * 85))
    assert KEYPOINT_NAMES[24] == "nose"
