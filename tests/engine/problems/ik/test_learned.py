"""The ik learned solvers: records on the iteration interface, the checkpoint and skeleton checks."""
import dataclasses
import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from engine.learn.checkpoint import CheckpointError
from engine.problems.registry import get_problem

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def problem_and_targets(batch=3, device="cpu", **config):
    spec = get_problem("ik")
    problem = spec.make(dataclasses.replace(spec.config(), **config), {}, device, batch)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    return spec, problem, problem.forward(truth), truth


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("device", DEVICES)
def test_feedback_records_each_step(tiny_ik_checkpoint, batch, device):
    spec, problem, targets, truth = problem_and_targets(batch, device)
    solver = spec.make_solver("feedback", checkpoint=str(tiny_ik_checkpoint))
    records = list(solver.iterate(problem, targets, problem.initial_estimate(), truth))
    assert len(records) == 3 and records[-1].x.shape == (batch, 72)  # x_0 and the two steps
    assert records[1].update.abs().sum() > 0 and torch.isfinite(records[-1].energy).all()
    assert set(records[-1].metrics) == {"position_error_cm", "rotation_error_deg"}


def test_deep6d_is_one_step(tiny_deep6d_checkpoint):
    spec, problem, targets, truth = problem_and_targets()
    solver = spec.make_solver("deep6d", checkpoint=str(tiny_deep6d_checkpoint))
    assert len(list(solver.iterate(problem, targets, problem.initial_estimate(), truth))) == 2


def test_a_checkpoint_of_the_other_kind_or_problem_is_refused(tiny_ik_checkpoint, tiny_deep6d_checkpoint,
                                                               tiny_checkpoint):
    spec = get_problem("ik")
    with pytest.raises(CheckpointError, match="a feedback checkpoint .* cannot run as the deep6d solver"):
        spec.make_solver("deep6d", checkpoint=str(tiny_ik_checkpoint))
    with pytest.raises(CheckpointError, match="a regression checkpoint .* cannot run as the feedback solver"):
        spec.make_solver("feedback", checkpoint=str(tiny_deep6d_checkpoint))
    with pytest.raises(CheckpointError, match="trained for problem 'pose6d', not 'ik'"):
        spec.make_solver("feedback", checkpoint=str(tiny_checkpoint))


def test_missing_and_garbage_checkpoints(tmp_path):
    spec = get_problem("ik")
    with pytest.raises(CheckpointError, match="no such checkpoint; train one with `feedbacklab train ik"):
        spec.make_solver("feedback", checkpoint=str(tmp_path / "none.safetensors"))
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        spec.make_solver("feedback", checkpoint=str(tmp_path / "bad.safetensors"))


def test_another_skeleton_is_refused(tiny_ik_checkpoint):
    spec, problem, targets, truth = problem_and_targets(betas=(2.0,))
    solver = spec.make_solver("feedback", checkpoint=str(tiny_ik_checkpoint))
    with pytest.raises(CheckpointError, match=r"trained on another skeleton \(rest joints up to .* cm"):
        solver.solve(problem, targets, problem.initial_estimate())


def _with_skeleton(source, target, skeleton):
    with safe_open(source, framework="pt") as file:
        header = json.loads(file.metadata()["feedbacklab"])
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    header["skeleton"] = skeleton
    save_file(tensors, target, metadata={"feedbacklab": json.dumps(header)})
    return target


@pytest.mark.parametrize("skeleton, message", [
    ({"joints": 31, "rest_joints": []}, "a skeleton of 31 joints, not this problem's 24"),
    (None, "a skeleton of an unknown number of joints"),
    ({"joints": 24, "rest_joints": "lots"}, "damaged checkpoint header"),
    ({"joints": 24, "rest_joints": [[0, 0, 0]]}, "damaged checkpoint header"),
])
def test_a_checkpoint_for_another_joint_count_is_refused(tiny_ik_checkpoint, tmp_path, skeleton, message):
    path = _with_skeleton(tiny_ik_checkpoint, tmp_path / "other.safetensors", skeleton)
    spec, problem, targets, _ = problem_and_targets()
    solver = spec.make_solver("feedback", checkpoint=str(path))
    with pytest.raises(CheckpointError, match=message):
        solver.solve(problem, targets, problem.initial_estimate())


def test_feedback_then_lbfgs_continues_from_the_feedback_result(tiny_ik_checkpoint):
    spec, problem, targets, truth = problem_and_targets()
    chain = spec.make_solver("feedback+lbfgs", checkpoint=str(tiny_ik_checkpoint), max_iterations=5)
    records = list(chain.iterate(problem, targets, problem.initial_estimate(), truth))
    assert [r.index for r in records] == list(range(len(records))) and len(records) > 3
    assert records[-1].energy.mean() <= records[2].energy.mean()
