"""Learning the fusion energy with the argmin layer: a tiny run of the real trainer writes weights the problem
reads, lowers the training loss, and the undamped derivative (lambda 0) runs too, with larger gradients."""
from __future__ import annotations

import torch

from engine.learn.energy_training import train_energy
from engine.problems.tracker_fusion.energy import PROBLEM, WEIGHT_SHAPES
from engine.problems.tracker_fusion.problem import TrackerFusionConfig, make_problem
from engine.problems.tracker_fusion.training import TrackerFusionTask, TrackerTrainConfig

TINY = dict(steps=6, batch_size=16, sequences=4, validation_frames=16, solver_iterations=30, learning_rate=0.05)


def test_a_tiny_run_writes_weights_the_problem_reads(tmp_path):
    out = tmp_path / "fusion.safetensors"
    task = TrackerFusionTask(TrackerTrainConfig(**TINY))
    run = train_energy(task, str(out), log=lambda message: None)
    assert {name: tuple(value.shape) for name, value in run.weights.items()} == WEIGHT_SHAPES
    assert run.meta["data"]["partition"] == "sequences" and run.meta["data"]["training_frames"] == len(task.training)
    assert set(run.meta["validation"]) == {"test_l1_px", "test_iou", "test_corner_error_px"}
    assert all(torch.isfinite(torch.tensor(r.gradient_norm)) for r in run.history)
    assert any((run.weights[name] != value).any() for name, value in task.initial_weights().items())
    problem = make_problem(TrackerFusionConfig(energy=str(out), sequences=4), "cpu", 2)
    torch.testing.assert_close(problem.weights["decay"], run.weights["decay"])


def test_the_undamped_derivative_is_larger():
    norms = {}
    for damping in (0.1, 0.0):
        config = TrackerTrainConfig(**dict(TINY, steps=1, damping=damping))
        norms[damping] = train_energy(TrackerFusionTask(config), None, log=lambda message: None).largest_gradient_norm
    assert norms[0.0] > norms[0.1] > 0


def test_the_frames_partition_trains_on_frames_of_every_sequence():
    task = TrackerFusionTask(TrackerTrainConfig(**dict(TINY, partition="frames")))
    assert task.meta()["partition"] == "frames" and task.problem == PROBLEM
    batch = task.training_batch(0, torch.Generator().manual_seed(0))
    assert batch.observation.shape == (16, 72, 5) and batch.truth.shape == (16, 4)
