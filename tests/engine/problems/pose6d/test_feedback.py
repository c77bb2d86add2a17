import pytest
import torch

from engine.learn.checkpoint import CheckpointError
from engine.problems.pose6d import Pose6DConfig, Pose6DProblem
from engine.procedural import make_object
from engine.solvers.base import Status
from engine.solvers.chain import ChainedSolver
from engine.problems.pose6d.feedback import LearnedSolver, Pose6DLearnedParams
from engine.problems.registry import get_problem


def problem_at(size, batch=3, device="cpu"):
    problem = Pose6DProblem.for_meshes(make_object("chair", 0), batch, Pose6DConfig(image_size=size), device)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(5))
    return problem, truth, problem.forward(truth)


def test_feedback_solver_runs_its_steps(tiny_checkpoint, device):
    problem, truth, observation = problem_at(64, device=device)
    solver = LearnedSolver(Pose6DLearnedParams(checkpoint=tiny_checkpoint), device=device)
    records = list(solver.iterate(problem, observation, problem.initial_estimate(), truth))
    assert len(records) == 3 and records[-1].status.tolist() == [Status.MAX_ITERATIONS] * 3
    assert records[-1].x.device.type == device.type and records[1].update.abs().sum() > 0
    assert torch.allclose(records[-1].x[:, :4].norm(dim=1), torch.ones(3, device=device), atol=1e-5)


def test_an_additive_checkpoint_still_solves(tmp_path):
    """Checkpoints made before the relative update (x_gt - x_t added) keep working."""
    from tests.engine.conftest import train_tiny

    checkpoint = train_tiny(tmp_path, relative_update=False, steps=1)
    problem, truth, observation = problem_at(64)
    solver = LearnedSolver(Pose6DLearnedParams(checkpoint=checkpoint))
    records = list(solver.iterate(problem, observation, problem.initial_estimate(), truth))
    assert solver.network(0, torch.device("cpu")).config.update_dim == 7
    assert records[1].update.abs().sum() > 0


def test_damped_update_never_raises_the_data_energy(tiny_checkpoint):
    problem, truth, observation = problem_at(64)
    solver = LearnedSolver(Pose6DLearnedParams(checkpoint=tiny_checkpoint, damped=True, steps=4))
    energies = torch.stack([r.energy for r in solver.iterate(problem, observation, problem.initial_estimate())])
    assert solver.name == "feedback-damped" and energies.shape == (5, 3)
    assert (energies[1:] <= energies[:-1] + 1e-7).all()


def test_regression_is_one_step_without_feedback(tiny_regression_checkpoint):
    problem, truth, observation = problem_at(64)
    solver = LearnedSolver(Pose6DLearnedParams(kind="regression", checkpoint=tiny_regression_checkpoint))
    assert len(list(solver.iterate(problem, observation, problem.initial_estimate()))) == 2


def test_chain_continues_the_timeline(tiny_checkpoint):
    problem, truth, observation = problem_at(64, batch=2)
    first = LearnedSolver(Pose6DLearnedParams(checkpoint=tiny_checkpoint))
    second = get_problem("pose6d").make_solver("softras", max_iterations=4, patience=0)
    records = list(ChainedSolver("feedback+softras", first, second).iterate(problem, observation,
                                                                          problem.initial_estimate(), truth))
    assert [r.index for r in records] == list(range(7))
    assert all(b.elapsed >= a.elapsed for a, b in zip(records, records[1:]))
    assert torch.allclose(records[2].x, records[1].x + records[2].update, atol=1e-6)


def test_checkpoint_for_another_image_size_is_refused(tiny_checkpoint):
    problem, truth, observation = problem_at(96)
    solver = LearnedSolver(Pose6DLearnedParams(checkpoint=tiny_checkpoint))
    with pytest.raises(CheckpointError, match="64 px"):
        solver.solve(problem, observation, problem.initial_estimate())


def test_missing_checkpoint_and_unknown_kind(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        get_problem("pose6d").make_solver("feedback", checkpoint=str(tmp_path / "none.safetensors"))
    with pytest.raises(ValueError, match="unknown learned solver"):
        LearnedSolver(Pose6DLearnedParams(kind="oracle"))


@pytest.mark.parametrize("kind", ["feedback", "feedback-shared", "regression"])
def test_shipped_checkpoints_solve_unseen_objects(kind):
    """The checkpoints in assets/ (relative updates) bring problems of the procedural test split close."""
    from engine.problems.pose6d.bench import sample_pose_problems
    from engine.procedural import load_mesh_set

    problem, truth, observation = sample_pose_problems(load_mesh_set(None, "test")[:12], 12, seed=4)
    result = get_problem("pose6d").make_solver(kind).solve(problem, observation, problem.initial_estimate())
    before = problem.metrics(problem.initial_estimate(), observation, observation, truth)["rotation_error_deg"]
    after = problem.metrics(result.x, observation, observation, truth)["rotation_error_deg"]
    assert after.median() < (0.25 if kind != "regression" else 0.5) * before.median()
