"""body-hmd through the command line: render and solve a signal file, train, bench, and bad inputs."""
from __future__ import annotations

import json
import shutil

import numpy as np

from engine.cli import main


def test_render_then_solve_a_signal_file(tmp_path, capsys):
    observation = tmp_path / "signals.json"
    assert main(["render", "body-hmd", "--gt", "walk-cycle", "--out", str(observation)]) == 0
    frames = json.loads(observation.read_text())["frames"]
    assert len(frames) == 40 and set(frames[0]) == {"headset", "left_hand", "right_hand", "betas"}
    capsys.readouterr()
    assert main(["solve", "body-hmd", "--observation", str(observation), "--solvers",
                 "lbfgs-prior", "--max-iterations", "30", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["solvers"]["lbfgs-prior"]["signals_mm_mean"] < 60


def test_train_then_bench_with_the_checkpoints(tmp_path, capsys, tiny_lf):
    out = tmp_path / "run"
    assert main(["train", "body-hmd", "--solver", "lf-resnet", "--out", str(out), "--samples", "16",
                 "--validation-samples", "4", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                 "--initialiser-hidden", "8", "--iterations", "2"]) == 0
    assert (out / "body-hmd-lf-resnet.safetensors").exists()
    shutil.copy(f"{tiny_lf}/body-hmd-lf.safetensors", out)
    capsys.readouterr()
    results = tmp_path / "bench.json"
    assert main(["bench", "body-hmd", "--n", "3", "--checkpoint-dir", str(out), "--max-iterations", "3",
                 "--sequence-windows", "0", "--out", str(results)]) == 0
    captured = capsys.readouterr()
    assert "Table 2" in captured.out and "Ablations" in captured.out and "Fig. 4, half-space" in captured.out
    assert "no checkpoint" in captured.err and "lf-shared; skipped" in captured.err
    table = json.loads(results.read_text())
    for visibility in ("full", "half-space"):
        assert set(table["visibility"][visibility]) == {"lbfgs-prior", "regression", "lf"}
        assert table["visibility"][visibility]["lf"]["problems"] == 3
    assert set(table["ablations"]) == {"lf", "lf-resnet"} and set(table["errors_after_steps"]["full"]) == {"lf"}


def test_bad_inputs_give_one_line_and_exit_2(tmp_path, capsys):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((1, 70), np.float32))
    assert main(["solve", "body-hmd", "--observation", str(wrong), "--solvers", "lbfgs"]) == 2
    error = capsys.readouterr().err.strip()
    assert "wrong.npy" in error and "\n" not in error
    other = tmp_path / "ik-feedback.safetensors"
    other.write_bytes(open("assets/checkpoints/ik-feedback.safetensors", "rb").read())
    assert main(["solve", "body-hmd", "--solvers", "lf", "--checkpoint", str(other)]) == 2
    error = capsys.readouterr().err.strip()
    assert "problem 'ik'" in error and "\n" not in error
    assert main(["train", "body-hmd", "--out", str(tmp_path / "t"), "--cell", "lstm"]) == 2
    assert "lstm" in capsys.readouterr().err
    assert main(["bench", "body-hmd", "--n", "0"]) == 2
    assert "--n" in capsys.readouterr().err
    assert main(["bench", "body-hmd", "--sequence-windows", "-1"]) == 2
    assert "--sequence-windows" in capsys.readouterr().err
