import pytest
import torch

from engine.problems.jpeg.network import Restorer, RestorerConfig

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_of_dncnn_and_feedback(device, channels):
    images = torch.rand(2, channels, 24, 32, device=device)
    dncnn = Restorer(RestorerConfig(feedback=False, channels=channels, depth=4, width=8)).to(device).eval()
    assert dncnn(images).shape == images.shape
    feedback = Restorer(RestorerConfig(channels=channels, depth=4, width=8)).to(device).eval()
    assert feedback(images, images, images).shape == images.shape


def test_an_untrained_network_changes_little_and_gradients_reach_every_layer():
    network = Restorer(RestorerConfig(feedback=False, depth=4, width=8))
    images = torch.rand(2, 1, 16, 16)
    restored = network(images)
    assert (restored - images).abs().mean() < 0.25
    restored.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in network.parameters())


def test_bad_inputs_are_refused():
    network = Restorer(RestorerConfig(depth=3, width=4))
    with pytest.raises(ValueError, match=r"restores \(N, 1, H, W\) images"):
        network(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="needs f\\(x_t\\)"):
        network(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        RestorerConfig(channels=2)
    with pytest.raises(ValueError, match="depth must be a whole number from 3 to 30"):
        RestorerConfig(depth=2)
