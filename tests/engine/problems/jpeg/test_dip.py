import pytest
import torch

from engine.problems.jpeg.dip import DipSettings, SkipNetwork, dip_iterations

SMALL = DipSettings(iterations=40, levels=2, width=8, skip=2)


@pytest.mark.parametrize("channels", [1, 3])
def test_the_network_makes_an_image_of_the_input_size(channels):
    network = SkipNetwork(channels, SMALL)
    out = network(torch.rand(2, 32, 20, 28))
    assert out.shape == (2, channels, 20, 28) and 0 <= out.min() and out.max() <= 1


def test_the_fit_approaches_the_observation_and_is_deterministic():
    observed = torch.rand(1, 1, 24, 24) * 0.5 + 0.25
    estimates = list(dip_iterations(observed, SMALL))
    errors = [(x - observed).square().mean().item() for x in estimates]
    assert len(estimates) == 40 and estimates[0].shape == observed.shape
    assert errors[-1] < 0.5 * errors[0]
    again = list(dip_iterations(observed, SMALL))
    assert torch.equal(again[-1], estimates[-1])


def test_bad_inputs_and_settings_are_refused():
    with pytest.raises(ValueError, match="fits one image"):
        next(dip_iterations(torch.rand(2, 1, 16, 16), SMALL))
    with pytest.raises(ValueError, match="needs at least 4 x 4"):
        next(dip_iterations(torch.rand(1, 1, 3, 16), SMALL))
    with pytest.raises(ValueError, match="dip levels must be a whole number from 1 to 6"):
        DipSettings(levels=9)
