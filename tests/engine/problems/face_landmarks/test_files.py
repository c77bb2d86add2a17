"""Landmark files and typed estimates: the documented layouts, and every bad input in one line."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.problems.face_landmarks.files import landmark_files, parse_x


def _landmarks(count: int = 2) -> np.ndarray:
    return np.random.default_rng(0).uniform(100, 400, (count, 68, 2)).astype(np.float32)


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".json"])
def test_round_trip(tmp_path, face, suffix):
    files = landmark_files(face)
    path = str(tmp_path / f"landmarks{suffix}")
    files.save(path, _landmarks())
    np.testing.assert_allclose(files.load(path), _landmarks(), atol=1e-4)
    if suffix == ".json":
        assert json.loads(open(path).read())["landmark_names"] == list(face.landmark_names)


def test_one_item_files(tmp_path, face):
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"landmarks": _landmarks(1)[0].tolist()}))
    assert landmark_files(face).load(str(path)).shape == (1, 68, 2)
    np.save(tmp_path / "one.npy", _landmarks(1)[0])
    assert landmark_files(face).load(str(tmp_path / "one.npy")).shape == (1, 68, 2)


def _refused(path, face, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        landmark_files(face).load(str(path))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("array, message", [
    (np.zeros((2, 67, 2)), r"expected landmarks of shape \(N, 68, 2\)"),  # wrong landmark count
    (np.zeros((2, 68)), r"expected landmarks of shape \(N, 68, 2\)"),  # (2, L): transposed
    (np.zeros(136), r"expected landmarks of shape \(N, 68, 2\)"),  # flat
    (np.zeros((2, 68, 3)), r"expected landmarks of shape \(N, 68, 2\)"),
])
def test_npy_of_another_layout(tmp_path, face, array, message):
    path = tmp_path / "wrong.npy"
    np.save(path, array.astype(np.float32))
    _refused(path, face, message)


def test_nan_missing_and_foreign_files(tmp_path, face):
    values = _landmarks()
    values[1, 5, 0] = np.nan
    for suffix in (".npy", ".npz", ".json"):
        path = tmp_path / f"nan{suffix}"
        landmark_files(face).save(str(path), values) if suffix != ".json" else path.write_text(
            json.dumps({"landmarks": [[[float(v) for v in point] for point in item] for item in values]}))
        _refused(path, face, "NaN")
    _refused(tmp_path / "missing.json", face, "no such landmark file")
    np.savez(tmp_path / "other.npz", points=values)
    _refused(tmp_path / "other.npz", face, "no array named \"landmarks\"")


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a readable JSON"),
    ([1, 2, 3], "JSON object"),
    ({"landmarks": [[0.0, 0.0]] * 67}, "shape"),
    ({"landmarks": [[0.0] * 68, [0.0] * 68]}, "shape"),  # (2, L)
    ({"landmarks": [[0.0, 0.0]] * 68, "landmark_names": ["nose"] * 68}, "landmark_names"),
])
def test_bad_json_files(tmp_path, face, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    _refused(path, face, message)


def test_estimates_from_text(face):
    neutral = parse_x("neutral", face)
    dimension = neutral.shape[1]
    assert neutral.shape == (1, 3 + 12 + len(face.expression_names) + face.identity_count)
    name = face.expression_names[2]
    smiling = parse_x(f"{name}=0.6, {face.expression_names[0]}=1", face)
    assert float(smiling[0, 15 + 2]) == pytest.approx(0.6) and float(smiling[0, 15]) == 1.0
    assert float((smiling - neutral).abs().sum()) == pytest.approx(1.6)
    assert parse_x(",".join(["0.1"] * dimension), face).shape == (1, dimension)


@pytest.mark.parametrize("text, message", [
    ("jawSideways=0.5", "jawSideways"),  # an unknown expression name
    ("eyeBlinkLeft=1.5", r"within \[0, 1\]"),
    ("eyeBlinkLeft=much", "not name=number"),
    ("0,1,2", "has 3 numbers"),
])
def test_bad_estimates_are_refused_in_one_line(face, text, message):
    with pytest.raises(ValueError, match=message) as error:
        parse_x(text, face)
    assert "\n" not in str(error.value)
