"""The illumination trainer: a tiny stage-wise run, its checkpoint loaded by the learned solver, the check of the
light kind it was trained for, solver names and the depth target."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.compare import run_comparison
from engine.learn.checkpoint import CheckpointError, load_checkpoint
from engine.learn.solver import LearnedSolverParams
from engine.learn.train import train
from engine.problems.illumination import SPEC, IlluminationConfig, IlluminationProblem
from engine.problems.illumination.learned import IlluminationLearnedSolver
from engine.problems.illumination.meshes import resolve_lit_mesh
from engine.problems.illumination.network import LightNetwork
from engine.problems.illumination.training import IlluminationTask, IlluminationTrainConfig, depth_target

TINY = dict(samples=8, validation_samples=4, steps=2, epochs=1, batch_size=4, network_size=32, width=2)


@pytest.fixture(scope="module")
def meshes():
    return [resolve_lit_mesh("car-1"), resolve_lit_mesh("chair-2")], [resolve_lit_mesh("sofa-3")]


@pytest.fixture(scope="module")
def checkpoint(meshes, tmp_path_factory):
    train_meshes, validation_meshes = meshes
    task = IlluminationTask(IlluminationTrainConfig(**TINY), train_meshes, validation_meshes, {"meshes": "tiny"})
    return train(task, str(tmp_path_factory.mktemp("illumination")), log=lambda message: None)


def problems(meshes, light: str = "directional", batch: int = 2):
    problem = IlluminationProblem.for_meshes(meshes[0][0], config=IlluminationConfig(light=light, image_size=64),
                                             batch_size=batch)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(4))
    return problem, truth, problem.forward(truth)


def test_training_writes_a_checkpoint(checkpoint):
    assert checkpoint.endswith("illumination-feedback-directional.safetensors")
    loaded = load_checkpoint(checkpoint, LightNetwork)
    meta = loaded.meta
    assert len(loaded.networks) == 2 and loaded.steps == 2
    assert meta["light"] == "directional" and meta["image_size"] == 256
    assert meta["training_set"] == {"meshes": "tiny"}
    assert len(meta["validation"]) == 2 and set(meta["validation"][0]) == {"mse_mean", "mse_median",
                                                                           "angle_error_mean", "outlier_percent"}
    network = loaded.networks[0]
    assert network.config.image_size == 32 and network.config.feedback and network.config.width == 2
    assert (network.update_scale != 1).all()  # set from the training targets' spread
    assert network.light.weight.abs().sum() > 0  # trained away from its zero start


def test_the_learned_solver_runs_the_checkpoint(checkpoint, meshes):
    problem, truth, observation = problems(meshes)
    solver = IlluminationLearnedSolver(LearnedSolverParams(kind="feedback", checkpoint=checkpoint))
    assert solver.params.max_iterations == 2
    records = list(solver.iterate(problem, observation, problem.initial_estimate(), truth))
    assert len(records) == 3 and records[-1].x.shape == (2, 3) and torch.isfinite(records[-1].x).all()
    assert records[1].update.abs().sum() > 0
    last = solver.solve(problem, observation, problem.initial_estimate())
    assert torch.allclose(last.x, records[-1].x)


def test_the_spec_compares_with_the_checkpoint(checkpoint, meshes):
    problem, truth, observation = problems(meshes)
    comparison = run_comparison(SPEC, problem, observation, ["feedback"], ground_truth=truth,
                                solver_options={"checkpoint": checkpoint})
    trace = comparison.traces["feedback"]
    assert trace.num_iterations == 3 and set(trace.metrics) == {metric.key for metric in SPEC.metrics}
    assert np.isfinite(trace.x).all()


def test_a_checkpoint_for_the_other_light_is_refused(checkpoint, meshes):
    problem, truth, observation = problems(meshes, light="point")
    solver = IlluminationLearnedSolver(LearnedSolverParams(kind="feedback", checkpoint=checkpoint))
    with pytest.raises(CheckpointError, match="trained for a directional light, but the problem's light is point; "
                                              "set --light directional"):
        solver.solve(problem, observation, problem.initial_estimate())


def test_a_feedback_checkpoint_cannot_run_as_regression(checkpoint):
    with pytest.raises(CheckpointError, match="cannot run as the regression solver"):
        IlluminationLearnedSolver(LearnedSolverParams(kind="regression", checkpoint=checkpoint))


def test_solver_names_and_config_checks():
    assert IlluminationTrainConfig().solver_name == "feedback-directional"
    assert IlluminationTrainConfig(shared=True, light="point").solver_name == "feedback-shared-point"
    assert IlluminationTrainConfig(feedback=False, steps=1).solver_name == "regression-directional"
    with pytest.raises(ValueError, match="--light 'spot'"):
        IlluminationTrainConfig(light="spot")
    with pytest.raises(ValueError, match="divisible by 16"):
        IlluminationTrainConfig(network_size=40)
    with pytest.raises(ValueError, match="exactly one step"):
        IlluminationTrainConfig(feedback=False, steps=3)


def test_depth_target(meshes):
    problem, truth, _ = problems(meshes, batch=2)
    _, view_depth = problem.render(truth)
    target = depth_target(view_depth, problem.config, 32)
    assert target.shape == (2, 32, 32)
    assert target.min() >= -1.0 and target.max() <= 1.0
    covered = torch.nn.functional.interpolate((view_depth > 0).float()[:, None], size=(32, 32), mode="area")[:, 0]
    assert (target[covered == 0] == 0).all() and (target[covered == 1] != 0).any()
    # On the object the target is positive in front of its centre, negative behind.
    full = depth_target(view_depth, problem.config, 64)
    on = view_depth > 0
    expected = (problem.config.distance - view_depth[on]) / problem.config.object_radius
    assert torch.allclose(full[on], expected)
