"""ikol-net: the twist network, its training through IKOL's layer and the solver that runs it."""
import pytest
import torch

from engine.learn.checkpoint import CheckpointError, load_checkpoint
from engine.learn.train import train
from engine.problems.ik import kinematics
from engine.problems.ik.data import default_rest_joints, split_poses
from engine.problems.ik.ikol_net import IKOLNetTask, IKOLNetTrainConfig, TwistNetwork, TwistNetworkConfig
from engine.problems.registry import get_problem

TINY = dict(samples=64, validation_samples=16, epochs=1, batch_size=16, hidden=16, layers=1)


@pytest.fixture(scope="module")
def tiny_twist_checkpoint(tmp_path_factory):
    task = IKOLNetTask(IKOLNetTrainConfig(**TINY), default_rest_joints())
    return train(task, str(tmp_path_factory.mktemp("ikol-net")), log=lambda message: None)


def targets_of(count, seed=0):
    poses = split_poses("test", count, seed).reshape(count, -1)
    return poses, kinematics.forward_kinematics(kinematics.rotations_from_x(poses), default_rest_joints())


def test_an_untrained_network_predicts_zero_twist():
    _, targets = targets_of(3)
    pairs = TwistNetwork(TwistNetworkConfig(hidden=8, layers=1))(targets, default_rest_joints())
    assert pairs.shape == (3, 18, 2) and torch.allclose(pairs, torch.tensor([1.0, 0.0]).expand(3, 18, 2))


def test_the_twist_does_not_depend_on_the_heading():
    network = TwistNetwork(TwistNetworkConfig(hidden=8, layers=1))
    torch.nn.init.normal_(network.mlp[-1].weight, std=0.1)
    _, targets = targets_of(2)
    turn = kinematics.rotations_from_x(torch.tensor([[0.2, 2.0, -0.3] + [0.0] * 69]))[0, 0]
    rest = default_rest_joints()
    assert torch.allclose(network(targets @ turn.T, rest), network(targets, rest), atol=1e-4)


def test_training_goes_through_the_layer(tiny_twist_checkpoint):
    checkpoint = load_checkpoint(tiny_twist_checkpoint, TwistNetwork)
    assert checkpoint.meta["solver"] == "ikol-net" and checkpoint.meta["architecture"] == "twist-mlp"
    assert checkpoint.meta["ikol"] == {"damping": 0.1, "iterations": 5}
    task = IKOLNetTask(IKOLNetTrainConfig(**TINY), default_rest_joints())
    poses, targets = targets_of(4)
    batch = task.stage_data(type("Set", (), {"poses": poses, "targets": targets})(), torch.zeros_like(poses), None)
    network = task.new_network()
    task.loss(network, batch).backward()
    assert network.mlp[-1].weight.grad.abs().sum() > 0  # the loss reaches the twist through the layer


def test_the_solver_runs_the_layer_with_the_predicted_twist(tiny_twist_checkpoint):
    spec = get_problem("ik")
    problem = spec.make(spec.config(), {}, "cpu", 3)
    poses, targets = targets_of(3)
    solver = spec.make_solver("ikol-net", checkpoint=str(tiny_twist_checkpoint))
    records = list(solver.iterate(problem, targets, problem.initial_estimate()))  # no ground truth needed
    assert len(records) == 6 and records[-1].energy.mean() < records[0].energy.mean()


def test_a_checkpoint_of_another_network_is_refused(tiny_ik_checkpoint, tiny_twist_checkpoint):
    spec = get_problem("ik")
    with pytest.raises(CheckpointError, match="holds 'joint-mlp' networks, not the 'twist-mlp'"):
        spec.make_solver("ikol-net", checkpoint=str(tiny_ik_checkpoint))
    with pytest.raises(CheckpointError, match="holds 'twist-mlp' networks, not the 'joint-mlp'"):
        spec.make_solver("feedback", checkpoint=str(tiny_twist_checkpoint))


def test_ikol_refuses_a_skeleton_that_is_not_smpls():
    from engine.problems.ik.ikol import swing_inputs

    with pytest.raises(ValueError, match="24"):
        swing_inputs(torch.zeros(2, 24, 3), torch.zeros(2, 18), torch.zeros(31, 3))
