"""The ik networks: 6D rotations, the joint MLP's shapes, its identity start and its bad inputs."""
import pytest
import torch

from engine.problems.ik import kinematics
from engine.problems.ik.networks import (
    JointNetwork, JointNetworkConfig, rotation_from_6d, rotation_to_6d,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def random_x(batch, generator=None):
    return 0.8 * torch.randn(batch, 72, generator=generator or torch.Generator().manual_seed(0))


@pytest.mark.parametrize("device", DEVICES)
def test_6d_gives_rotations_and_round_trips(device):
    rotations = rotation_from_6d(torch.randn(5, 24, 6, device=device))
    identity = torch.eye(3, device=device).expand_as(rotations)
    assert torch.allclose(rotations @ rotations.transpose(-1, -2), identity, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rotations), torch.ones(5, 24, device=device), atol=1e-5)
    assert torch.allclose(rotation_from_6d(rotation_to_6d(rotations)), rotations, atol=1e-5)


def test_6d_gradient():
    sixd = torch.randn(2, 6, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(rotation_from_6d, (sixd,))


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("device", DEVICES)
def test_an_untrained_network_changes_nothing(batch, device):
    x = random_x(batch).to(device)
    rotations = kinematics.rotations_from_x(x)
    targets, joints = torch.randn(batch, 24, 3, device=device), torch.randn(batch, 24, 3, device=device)
    feedback = JointNetwork(JointNetworkConfig(hidden=8, layers=2)).to(device)
    assert torch.allclose(feedback(targets, joints, rotations), rotations, atol=1e-5)
    deep6d = JointNetwork(JointNetworkConfig(feedback=False, hidden=8, layers=1)).to(device)
    assert torch.allclose(deep6d(targets, None, None), torch.eye(3, device=device).expand(batch, 24, 3, 3))


def test_the_network_learns_through_its_output():
    network = JointNetwork(JointNetworkConfig(hidden=8, layers=1))
    rotations = network(torch.randn(2, 24, 3), torch.randn(2, 24, 3), kinematics.rotations_from_x(random_x(2)))
    rotations.square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in network.parameters())


def test_bad_inputs():
    network = JointNetwork(JointNetworkConfig(hidden=8, layers=1))
    with pytest.raises(ValueError, match="trained on 24 joints"):
        network(torch.zeros(2, 23, 3), torch.zeros(2, 23, 3), torch.eye(3).expand(2, 23, 3, 3))
    with pytest.raises(ValueError, match="needs the current estimate"):
        network(torch.zeros(2, 24, 3), None, None)
    with pytest.raises(ValueError, match="hidden must be a whole number"):
        JointNetworkConfig(hidden=0)


def test_the_feedback_step_turns_with_the_body():
    """Targets and estimate turned together by Q: the new root is turned by Q, the other joints are unchanged."""
    network = JointNetwork(JointNetworkConfig(hidden=8, layers=1))
    torch.nn.init.normal_(network.mlp[-1].weight, std=0.1)
    x = random_x(2)
    rotations = kinematics.rotations_from_x(x)
    targets, joints = torch.randn(2, 24, 3), torch.randn(2, 24, 3)
    turn = kinematics.rotations_from_x(torch.tensor([[0.3, 1.2, -0.4] + [0.0] * 69]))[0, 0]
    turned_rotations = rotations.clone()
    turned_rotations[:, 0] = turn @ rotations[:, 0]
    plain = network(targets, joints, rotations)
    turned = network(targets @ turn.T, joints @ turn.T, turned_rotations)
    assert torch.allclose(turned[:, 1:], plain[:, 1:], atol=1e-5)
    assert torch.allclose(turned[:, 0], turn @ plain[:, 0], atol=1e-5)
