"""The ik problem through the command line: render, solve (with a BVH motion), bench, and its bad inputs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main
from engine.trace import Comparison

from .test_data import legs_bvh, write


def test_render_then_solve_the_observation(tmp_path, capsys):
    observation = tmp_path / "targets.npy"
    assert main(["render", "ik", "--gt", "squat", "--out", str(observation)]) == 0
    targets = np.load(observation)
    assert targets.shape == (1, 24, 3) and targets.dtype == np.float32
    capsys.readouterr()
    trace = tmp_path / "run.npz"
    assert main(["solve", "ik", "--observation", str(observation), "--gt", "squat", "--solvers", "lm,adam",
                 "--max-iterations", "30", "--trace", str(trace), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["problem"] == "ik" and summary["config"]["prior_weight"] == 0.001
    assert summary["solvers"]["lm"]["position_error_cm_mean"] < 0.5 < summary["solvers"]["adam"]["position_error_cm_mean"]
    loaded = Comparison.load(trace)
    np.testing.assert_array_equal(loaded.observation, targets)  # float targets kept exactly
    assert set(loaded.traces["lm"].info) >= {"damping", "accepted", "gain_ratio"}


def test_solve_a_motion_batch_and_record(tmp_path, capsys):
    clip = write(tmp_path, legs_bvh(12))
    gif = tmp_path / "ik.gif"
    assert main(["solve", "ik", "--motion", str(clip), "--frames", "4", "--solvers", "adam,lbfgs,lm",
                 "--max-iterations", "5", "--record", str(gif), "--item", "3"]) == 0
    captured = capsys.readouterr()
    assert "motion clip.bvh: 12 frames" in captured.err and "| lm |" in captured.out
    assert gif.stat().st_size > 1000


def test_bench_ik_prints_table_5(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "ik", "--n", "3", "--cmu-frames", "0", "--solvers", "adam,lm", "--max-iterations", "3",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Pos. mean (cm)" in printed and "Rot. median (deg)" in printed and "Time per iteration" in printed
    results = json.loads(out.read_text())
    (label, tables), = results["sets"].items()
    solvers = tables["solvers"]
    assert "test split" in label and solvers["lm"]["problems"] == 3 and solvers["lm"]["ms_per_iteration"] > 0


def test_bench_ik_tabulates_the_feedback_steps(tmp_path, capsys, tiny_ik_checkpoint):
    out = tmp_path / "bench.json"
    assert main(["bench", "ik", "--n", "3", "--cmu-frames", "0", "--solvers", "lbfgs,feedback",
                 "--checkpoint", str(tiny_ik_checkpoint), "--max-iterations", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "supplementary Tables 2 and 3" in printed and "feedback is" in printed and "faster than lbfgs" in printed
    (tables,) = json.loads(out.read_text())["sets"].values()
    assert set(tables["errors_after_steps"]["feedback"]) == {"1", "2", "3"}  # a 2-step network keeps its last


def test_train_ik_writes_a_checkpoint_and_refuses_bad_settings(tmp_path, capsys):
    tiny = ["--samples", "32", "--validation-samples", "8", "--epochs", "1", "--hidden", "8", "--layers", "1"]
    assert main(["train", "ik", "--out", str(tmp_path), "--solver", "deep6d", *tiny]) == 0
    assert (tmp_path / "ik-deep6d.safetensors").is_file()
    assert main(["train", "ik", "--out", str(tmp_path), "--solver", "deep6d", *tiny]) == 2
    assert "ik-deep6d.safetensors: the file exists" in capsys.readouterr().err
    assert main(["train", "ik", "--out", str(tmp_path), "--solver", "deep6d", "--steps", "3"]) == 2
    assert "exactly one step" in capsys.readouterr().err


def test_problems_lists_every_problem(capsys):
    assert main(["problems"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("ik ") and "lm" in line for line in lines)
    assert any(line.startswith("pose6d ") for line in lines)


@pytest.mark.parametrize("argv, message", [
    (["solve", "ik", "--motion", "{tmp}/truncated.bvh"], "truncated"),
    (["solve", "ik", "--motion", "{tmp}/empty.bvh"], "at least one frame"),
    (["solve", "ik", "--motion", "{tmp}/robot.bvh"], "found no BVH joint"),
    (["solve", "ik", "--motion", "{tmp}/clip.bvh", "--frames", "20:30"], "--frames '20:30' (the clip has 12 frames)"),
    (["solve", "ik", "--motion", "{tmp}/clip.bvh", "--frames", "0"], "--frames"),
    (["solve", "ik", "--motion", "{tmp}/clip.txt"], "expected a .bvh"),
    (["solve", "ik", "--observation", "{tmp}/wrong.npy"], "wrong.npy: expected target joints of shape (N, 24, 3)"),
    (["solve", "ik", "--observation", "{tmp}/nan.npy"], "nan.npy: the target joints contain NaN"),
    (["solve", "ik", "--observation", "{tmp}/pickle.npy"], "pickle.npy: not a NumPy .npy array"),
    (["solve", "ik", "--observation", "{tmp}/missing.npy"], "no such observation file"),
    (["solve", "ik", "--gt", "cartwheel"], "'cartwheel' is not an ik pose"),
    (["solve", "ik", "--prior-weight", "-1"], "--prior-weight"),
    (["solve", "ik", "--prior-weight", "abc"], "--prior-weight 'abc': expected a number"),
    (["solve", "ik", "--solvers", "nmr"], "problem ik cannot run solver(s) nmr; choose from adam, lbfgs"),
    (["solve", "pose6d", "--solvers", "lm"], "problem pose6d cannot run solver(s) lm"),
    (["solve", "nope"], "invalid choice: 'nope'"),
    (["train", "ik", "--out", "{tmp}", "--solver", "deep6d", "--steps", "3"], "--solver deep6d has exactly one step"),
    (["train", "ik", "--out", "{tmp}", "--solver", "ikol-net", "--steps", "2"], "ikol-net has exactly one step"),
    (["train", "ik", "--out", "{tmp}", "--solver", "ikol-net", "--rotation-weight", "5"],
     "--rotation-weight: --solver ikol-net has no such setting"),
    (["train", "ik", "--out", "{tmp}", "--damping", "0.5"], "--damping: --solver feedback has no such setting"),
    (["train", "ik", "--out", "{tmp}", "--solver", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["train", "ik", "--out", "{tmp}", "--samples", "1"], "--samples must be a whole number from 2"),
])
def test_bad_input_gives_one_line_error(tmp_path, capsys, argv, message):
    write(tmp_path, legs_bvh(12))
    write(tmp_path, legs_bvh(3, drop_values=4), "truncated.bvh")
    write(tmp_path, legs_bvh(0), "empty.bvh")
    write(tmp_path, legs_bvh(2, names=["Root0", "A", "B", "C", "D"]), "robot.bvh")
    write(tmp_path, legs_bvh(2), "clip.txt")
    np.save(tmp_path / "wrong.npy", np.zeros((2, 23, 3), np.float32))
    np.save(tmp_path / "nan.npy", np.full((1, 24, 3), np.nan, np.float32))
    np.save(tmp_path / "pickle.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    try:
        code = main([part.replace("{tmp}", str(tmp_path)) for part in argv])
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    assert code == 2
    *notes, error = capsys.readouterr().err.strip().splitlines()
    assert error.startswith("feedbacklab: error:") and message in error, error
    assert all(note.startswith("note:") for note in notes)


def test_json_everywhere(tmp_path, capsys):
    assert main(["render", "ik", "--gt", "squat", "--out", str(tmp_path / "t.npy"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shape"] == [1, 24, 3]
    assert main(["bench", "ik", "--n", "2", "--cmu-frames", "0", "--solvers", "lm", "--max-iterations", "2",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["problem"] == "ik"
    assert main(["problems", "--json"]) == 0
    assert "lm" in json.loads(capsys.readouterr().out)["ik"]["solvers"]


def test_observation_with_too_many_frames_is_refused_before_reading(tmp_path, capsys):
    from engine.problems.ik.problem import MAX_TARGETS

    path = tmp_path / "many.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(MAX_TARGETS + 1, 24, 3)).flush()  # sparse
    assert main(["solve", "ik", "--observation", str(path)]) == 2
    assert f"holds {MAX_TARGETS + 1} items; this problem's limit is {MAX_TARGETS}" in capsys.readouterr().err


@pytest.mark.parametrize("text, wrong", [("1,2,3", "has 3 numbers"), ("a,b", "is not comma-separated numbers"),
                                         (",".join(["0"] * 71 + ["nan"]), "has a NaN or infinite number")])
def test_typed_pose_errors_say_what_is_wrong(capsys, text, wrong):
    assert main(["solve", "ik", "--gt", text]) == 2
    assert f"{wrong}: give 72 comma-separated axis-angle numbers" in capsys.readouterr().err
