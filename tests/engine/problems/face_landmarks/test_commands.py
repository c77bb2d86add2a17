"""face-landmarks through its commands and the learned fitters: a tiny training run whose checkpoint runs as a
solver, the bench's Table 7 with it, the command line's render and solve, and checkpoints that do not fit."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from engine.cli import main
from engine.learn.checkpoint import CheckpointError
from engine.problems.face_landmarks.problem import parameter_groups
from engine.problems.face_landmarks.solvers import fitter

from .conftest import train_tiny_fitter


@pytest.fixture(scope="module")
def tiny_lf(tmp_path_factory, face) -> str:
    return train_tiny_fitter(tmp_path_factory.mktemp("face-lf"), face)


def test_a_tiny_trained_fitter_runs_as_a_solver(instances, face, tiny_lf):
    problem, truth, observation = instances(3, seed=7)
    solver = fitter("face-landmarks", parameter_groups(face), "lf", tiny_lf)
    records = list(solver.iterate(problem, observation, problem.initial_estimate(), truth))
    assert len(records) == 4 and records[-1].x.shape == truth.shape  # the initialiser and two updates
    assert all(bool(torch.isfinite(record.energy).all()) for record in records)
    assert {"v2v_face_mm", "pa_landmark_mm"} <= set(records[-1].metrics)


def test_checkpoints_that_do_not_fit_are_refused_in_one_line(face, tiny_lf):
    with pytest.raises(CheckpointError, match="problem 'ik'") as error:
        fitter("face-landmarks", parameter_groups(face), "lf", "assets/checkpoints/ik-feedback.safetensors")
    assert "\n" not in str(error.value)
    with pytest.raises(CheckpointError, match="parameters"):
        fitter("face-landmarks", parameter_groups(face)[:-1], "lf", tiny_lf)  # a face without identity


def test_train_then_bench_with_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "face-landmarks", "--solver", "lf", "--out", str(out), "--samples", "16",
                 "--validation-samples", "4", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                 "--initialiser-hidden", "8", "--iterations", "2"]) == 0
    assert (out / "face-landmarks-lf.safetensors").exists()
    capsys.readouterr()
    results = tmp_path / "bench.json"
    assert main(["bench", "face-landmarks", "--n", "3", "--checkpoint-dir", str(out), "--max-iterations", "3",
                 "--out", str(results)]) == 0
    captured = capsys.readouterr()
    assert "| Method | V2V face - | V2V face PA | V2V head - | V2V head PA | LdmkErr - | LdmkErr PA |" in captured.out
    assert "face-landmarks-lgd.safetensors for lgd; skipped" in captured.err
    table = json.loads(results.read_text())
    assert set(table["solvers"]) == {"lm", "lbfgs", "lf"} and set(table["iteration_ms"]) == {"lm", "lf"}
    assert table["solvers"]["lf"]["problems"] == 3


def test_render_then_solve_a_landmark_file(tmp_path, capsys):
    observation = tmp_path / "landmarks.json"
    assert main(["render", "face-landmarks", "--gt", "jawOpen=0.7", "--out", str(observation)]) == 0
    assert len(json.loads(observation.read_text())["landmarks"][0]) == 68
    capsys.readouterr()
    assert main(["solve", "face-landmarks", "--observation", str(observation), "--solvers", "lm",
                 "--max-iterations", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["solvers"]["lm"]["reprojection_px_mean"] < 3


def test_bad_command_lines_give_one_line_and_exit_2(tmp_path, capsys):
    other = tmp_path / "face-landmarks-lf.safetensors"
    shutil.copy("assets/checkpoints/ik-feedback.safetensors", other)
    assert main(["bench", "face-landmarks", "--n", "2", "--checkpoint-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "problem 'ik'" in error
    assert main(["bench", "face-landmarks", "--n", "2", "--solvers", "lf"]) == 2
    assert "names no optimizer" in capsys.readouterr().err
    assert main(["render", "face-landmarks", "--gt", "smirk=1", "--out", str(tmp_path / "x.npy")]) == 2
    assert "smirk" in capsys.readouterr().err
    assert main(["render", "face-landmarks", "--focal-px", "0", "--out", str(tmp_path / "x.npy")]) == 2
    assert "--focal-px" in capsys.readouterr().err
