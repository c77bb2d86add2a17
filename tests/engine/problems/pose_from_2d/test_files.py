"""Observation files and typed estimates."""
import numpy as np
import pytest
import torch

from engine.problems.pose_from_2d import SPEC
from engine.problems.pose_from_2d.problem import Pose2DConfig


def test_observations_round_trip_and_fit_the_config(tmp_path):
    path = str(tmp_path / "joints.npy")
    observation = np.random.default_rng(0).uniform(0, 1000, (2, 1, 17, 2)).astype(np.float32)
    SPEC.save_observation(path, observation)
    np.testing.assert_array_equal(SPEC.load_observation(path), observation)
    assert SPEC.fit_config(Pose2DConfig(), observation).cameras == 1
    np.save(path, observation[0])
    assert SPEC.load_observation(path).shape == (1, 1, 17, 2)


@pytest.mark.parametrize("array, message", [(np.zeros((2, 3, 17, 2), np.float32), r"C one of 1 or 4"),
                                            (np.zeros((2, 4, 17, 2), "<U2"), "got <U2"),
                                            (np.full((1, 4, 17, 2), np.nan, np.float32), "NaN")])
def test_bad_observation_files_are_refused_in_one_line(tmp_path, array, message):
    path = str(tmp_path / "bad.npy")
    np.save(path, array)
    with pytest.raises(ValueError, match=message):
        SPEC.load_observation(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(ValueError, match="no such observation file"):
        SPEC.load_observation(str(tmp_path / "none.npy"))
    with pytest.raises(ValueError, match=r"\.npy arrays"):
        SPEC.load_observation(str(tmp_path / "joints.txt"))
    (tmp_path / "junk.npy").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a NumPy .npy array"):
        SPEC.load_observation(str(tmp_path / "junk.npy"))


def test_typed_estimates():
    squat = SPEC.parse_x("squat")
    assert squat.shape == (1, 52) and squat[0, 0] == 0
    assert SPEC.parse_x("walk-cycle").shape == (40, 52)
    text = SPEC.format_x(squat[0].numpy())
    torch.testing.assert_close(SPEC.parse_x(text), squat, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="has 3 numbers: give a library pose"):
        SPEC.parse_x("1,2,3")
    with pytest.raises(ValueError, match="is not a pose-from-2d pose"):
        SPEC.parse_x("dance")
