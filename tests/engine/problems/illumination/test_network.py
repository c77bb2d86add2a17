"""LightNetwork: output shapes (feedback and regression, any batch, inputs larger than or at the network's size),
its zero update at initialisation, gradients to every layer, and bad configurations and inputs."""
from __future__ import annotations

import pytest
import torch

from engine.problems.illumination.network import LightNetwork, NetworkConfig, network_images, network_input

SMALL = dict(width=2, hidden=8)


def images(batch: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, size, size, 3, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("feedback", [True, False])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("input_size", [256, 32])
def test_output_shapes(feedback, batch, input_size, device):
    network = LightNetwork(NetworkConfig(image_size=32, feedback=feedback, **SMALL)).to(device).eval()
    observation = images(batch, input_size).to(device)
    rendering = images(batch, input_size, seed=1).to(device) if feedback else None
    x = torch.randn(batch, 3, device=device)
    update, depth = network(observation, rendering, x)
    assert update.shape == (batch, 3) and depth.shape == (batch, 16, 16)
    assert update.device.type == device.type and depth.device.type == device.type
    assert torch.isfinite(depth).all()


def test_zero_update_at_initialisation_but_gradients_flow():
    network = LightNetwork(NetworkConfig(image_size=32, **SMALL))
    observation, rendering, x = images(2, 64), images(2, 64, seed=1), torch.randn(2, 3)
    update, depth = network(observation, rendering, x)
    assert torch.equal(update, torch.zeros(2, 3))
    (update.sum() + depth.square().mean()).backward()
    assert network.light.weight.grad.abs().sum() > 0  # the zero head still learns
    assert network.stem[0].weight.grad.abs().sum() > 0  # through the depth decoder
    assert network.update_scale.tolist() == [1.0, 1.0, 1.0]


def test_update_scale_scales_the_update():
    network = LightNetwork(NetworkConfig(image_size=32, **SMALL)).eval()
    with torch.no_grad():
        network.light.bias.copy_(torch.tensor([1.0, -1.0, 0.5]))
        network.update_scale.copy_(torch.tensor([2.0, 3.0, 4.0]))
    update, _ = network(images(1, 32), images(1, 32, seed=1), torch.zeros(1, 3))
    assert update[0].tolist() == pytest.approx([2.0, -3.0, 2.0])


def test_network_input_channels_and_uint8_images():
    config = NetworkConfig(image_size=32, **SMALL)
    observation, rendering = images(2, 64), images(2, 64, seed=1)
    stacked = network_input(observation, rendering, config)
    assert stacked.shape == (2, 9, 32, 32)
    assert torch.allclose(stacked[:, 6:], stacked[:, :3] - stacked[:, 3:6])
    regression = NetworkConfig(image_size=32, feedback=False, **SMALL)
    assert network_input(observation, None, regression).shape == (2, 3, 32, 32)
    as_bytes = (observation * 255).round().to(torch.uint8)
    assert torch.allclose(network_images(as_bytes, 32), network_images(as_bytes.float() / 255, 32))
    # Area downsampling: the mean brightness is kept.
    assert network_images(observation, 32).mean().item() == pytest.approx(observation.mean().item(), abs=1e-5)


def test_config_checks():
    with pytest.raises(ValueError, match="divisible by 16, got 40"):
        NetworkConfig(image_size=40)
    with pytest.raises(ValueError, match="image_size"):
        NetworkConfig(image_size=8)
    assert NetworkConfig(feedback=True).in_channels == 9 and NetworkConfig(feedback=False).in_channels == 3
    assert NetworkConfig(**NetworkConfig(width=3).to_dict()) == NetworkConfig(width=3)


def test_feedback_network_without_a_rendering_is_refused():
    network = LightNetwork(NetworkConfig(image_size=32, **SMALL))
    with pytest.raises(ValueError, match="a feedback network needs the current rendering f\\(x_t\\)"):
        network(images(1, 32), None, torch.zeros(1, 3))
