import pytest
import torch

from engine.problems.pose6d.network import NetworkConfig, UpdateNetwork


def test_shapes_and_zero_initial_update(device):
    network = UpdateNetwork(NetworkConfig(image_size=64, width=4, hidden=8)).to(device).eval()
    y = torch.rand(3, 64, 64, device=device)
    update = network(y, y.round(), torch.zeros(3, 7, device=device))
    assert update.shape == (3, 7) and update.device.type == device.type
    assert torch.equal(update, torch.zeros_like(update))


def test_relative_update_has_six_numbers():
    network = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8, relative_update=True))
    assert network(torch.rand(2, 32, 32), torch.rand(2, 32, 32), torch.zeros(2, 7)).shape == (2, 6)
    assert network.update_scale.shape == (6,)


def test_regression_network_takes_the_observation_only():
    network = UpdateNetwork(NetworkConfig(image_size=32, feedback=False, width=4, hidden=8))
    assert network(torch.rand(2, 32, 32), None, torch.zeros(2, 7)).shape == (2, 7)
    feedback = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))
    with pytest.raises(ValueError, match="rendering"):
        feedback(torch.rand(2, 32, 32), None, torch.zeros(2, 7))


def test_gradients_reach_every_layer():
    network = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))
    torch.nn.init.normal_(network.head[-1].weight)
    network(torch.rand(4, 32, 32), torch.rand(4, 32, 32), torch.rand(4, 7)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in network.parameters())


def test_bad_image_size_rejected():
    with pytest.raises(ValueError, match="divisible by 32"):
        NetworkConfig(image_size=100)
