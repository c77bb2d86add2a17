"""body-keypoints through the command line: render and solve a keypoint file, train, bench, and bad inputs."""
from __future__ import annotations

import json

import numpy as np

from engine.cli import main


def test_render_then_solve_a_keypoint_file(tmp_path, capsys):
    observation = tmp_path / "keypoints.json"
    assert main(["render", "body-keypoints", "--gt", "squat", "--out", str(observation)]) == 0
    assert json.loads(observation.read_text())["keypoint_names"][24] == "nose"
    capsys.readouterr()
    assert main(["solve", "body-keypoints", "--observation", str(observation), "--solvers", "lm",
                 "--max-iterations", "20", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["solvers"]["lm"]["reprojection_px_mean"] < 10


def test_train_then_bench_with_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "body-keypoints", "--solver", "lf", "--out", str(out), "--samples", "16",
                 "--validation-samples", "4", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                 "--initialiser-hidden", "8", "--iterations", "2"]) == 0
    checkpoint = out / "body-keypoints-lf.safetensors"
    assert checkpoint.exists()
    capsys.readouterr()
    results = tmp_path / "bench.json"
    assert main(["bench", "body-keypoints", "--n", "4", "--solvers", "lm,regression,lf", "--checkpoint",
                 str(checkpoint), "--max-iterations", "3", "--out", str(results)]) == 0
    printed = capsys.readouterr().out
    assert "PA-MPJPE mean (mm)" in printed and "Fig. 4" in printed and "Time per frame" in printed
    table = json.loads(results.read_text())
    assert table["solvers"]["lf"]["problems"] == 4 and set(table["errors_after_steps"]) == {"regression", "lf"}


def test_bad_inputs_give_one_line_and_exit_2(tmp_path, capsys):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((1, 17, 3), np.float32))
    assert main(["solve", "body-keypoints", "--observation", str(wrong), "--solvers", "lm"]) == 2
    error = capsys.readouterr().err.strip()
    assert "wrong.npy" in error and "\n" not in error
    other = tmp_path / "ik-feedback.safetensors"
    other.write_bytes(open("assets/checkpoints/ik-feedback.safetensors", "rb").read())
    assert main(["solve", "body-keypoints", "--solvers", "lf", "--checkpoint", str(other)]) == 2
    error = capsys.readouterr().err.strip()
    assert "problem 'ik'" in error and "\n" not in error
    assert main(["train", "body-keypoints", "--out", str(tmp_path / "t"), "--cell", "lstm"]) == 2
    assert "lstm" in capsys.readouterr().err
