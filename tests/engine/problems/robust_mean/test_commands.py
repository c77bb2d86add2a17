"""robust-mean through the command line (train, bench, solve), its lesson for the app, and bad settings."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.learn.energy_weights import load_energy_weights
from engine.problems.robust_mean.demo import draw_lesson, run_lesson
from engine.problems.robust_mean.problem import RobustMeanConfig

TINY = ["--steps", "4", "--validation-problems", "16"]


def test_train_writes_weights_the_problem_reads(tmp_path, capsys):
    out = tmp_path / "sigma.safetensors"
    assert main(["train", "robust-mean", *TINY, "--lambda", "0", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert line.startswith("lambda 0, seed 0:") and "largest |dL/dlog sigma|" in line
    weights, meta = load_energy_weights(out, "robust-mean", {"log_sigma": ()})
    assert meta["settings"]["damping"] == 0.0 and meta["settings"]["steps"] == 4 and meta["seconds"] >= 0
    assert set(meta) >= {"data", "validation", "commit", "created", "largest_gradient_norm"}
    capsys.readouterr()
    assert main(["solve", "robust-mean", "--energy", str(out), "--gt", "3,-7", "--solvers", "median,candidates+newton",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["config"]["energy"] == str(out) and set(summary["solvers"]) == {"median", "candidates+newton"}


def test_bench_reports_both_derivatives_and_the_baselines(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "robust-mean", "--seeds", "2", *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 0.1 | " in printed and "| 0 | " in printed and "| median |" in printed and "best fixed sigma" in printed
    results = json.loads(out.read_text())
    assert set(results["lambdas"]) == {"0.1", "0"} and len(results["lambdas"]["0"]["runs"]) == 2
    assert results["lambdas"]["0.1"]["diverged"] in (0, 1, 2)


@pytest.mark.parametrize("flags, message", [
    (["--lambda", "-0.1"], "--damping"),
    (["--optimizer", "rmsprop"], "--optimizer 'rmsprop'"),
    (["--steps", "0"], "--steps"),
])
def test_bad_training_settings_are_one_line(flags, message, capsys):
    assert main(["train", "robust-mean", *flags]) != 0
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_the_lesson_trains_both_runs_and_draws_every_step():
    config = RobustMeanConfig(energy="untrained")
    observation = np.concatenate([np.random.default_rng(0).normal(5, 4, 10), np.linspace(-40, 40, 30)])
    frames = run_lesson(config, observation.astype(np.float32), np.array([5.0], np.float32), 3)
    assert list(frames) == ["damped (lambda 0.1)", "undamped (lambda 0)"] and all(len(run) == 3 for run in frames.values())
    first = frames["damped (lambda 0.1)"][0]
    assert first["log_sigma"] == pytest.approx(math.log(config.untrained_sigma))
    assert math.isfinite(first["damped"]) and abs(first["damped"]) <= abs(first["undamped"]) + 1e-6
    for step in (0, 2, 99):
        picture = draw_lesson(frames, step, observation, np.array([5.0]))
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[1] == 1140
    broken = {name: [dict(run[0], log_sigma=float("inf"))] for name, run in frames.items()}
    assert draw_lesson(broken, 0, observation, None).dtype == np.uint8
    assert torch.isfinite(torch.tensor(first["estimate"]))
