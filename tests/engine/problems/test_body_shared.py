"""The SMPL-family problems' body input: a user's model file of the problem's format, refused in one line
otherwise."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.bodies.model import DEFAULT_BODY, DEFAULT_BODY_SMPLH
from engine.cli import main
from engine.problems.body_hmd import SPEC as HMD
from engine.problems.body_keypoints import SPEC as KEYPOINTS


def _body_entry(spec):
    (entry,) = [entry for entry in spec.inputs if entry.key == "body"]
    return entry


@pytest.mark.parametrize("spec, fits, other, message", [
    (HMD, DEFAULT_BODY_SMPLH, DEFAULT_BODY, "body-hmd needs a body with hands (SMPL-H): 'default_body.npz' is a "
                                            "SMPL model"),
    (KEYPOINTS, DEFAULT_BODY, DEFAULT_BODY_SMPLH, "body-keypoints needs a SMPL body (24 joints): "
                                                  "'default_body_smplh.npz' is a SMPL-H model"),
])
def test_a_model_file_of_the_problems_format_is_taken_and_another_refused(spec, fits, other, message):
    entry = _body_entry(spec)
    assert entry.load(None) is None and entry.describe(None) == "body model default (Anny)"
    assert entry.load(str(fits)) == str(fits) and entry.name_of(str(fits)) == Path(fits).name
    with pytest.raises(ValueError) as error:
        entry.load(str(other))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_bad_files_are_refused_in_one_line(tmp_path):
    entry = _body_entry(HMD)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    for path in (str(broken), str(tmp_path / "missing.pkl")):
        with pytest.raises(ValueError) as error:
            entry.load(path)
        assert Path(path).name in str(error.value) and "\n" not in str(error.value)


def test_the_problem_fits_the_loaded_body():
    """The user's file (here the shipped SMPL+H file, by path) makes the same problem as the default body."""
    config = HMD.config()
    given = HMD.make(config, {"body": str(DEFAULT_BODY_SMPLH)}, "cpu", 2)
    default = HMD.make(config, {"body": None}, "cpu", 2)
    x = default.sample_ground_truth(torch.Generator().manual_seed(1))
    assert given.body_path == str(DEFAULT_BODY_SMPLH)
    torch.testing.assert_close(given.forward(x), default.forward(x))
    truth = given.sample_ground_truth(torch.Generator().manual_seed(1))
    torch.testing.assert_close(truth, x)


def test_the_command_line_refuses_a_body_without_hands(capsys):
    assert main(["solve", "body-hmd", "--body", str(DEFAULT_BODY), "--solvers", "lbfgs"]) == 2
    error = capsys.readouterr().err.strip()
    assert "needs a body with hands" in error and "default_body.npz" in error and "\n" not in error
