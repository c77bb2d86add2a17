import torch

from engine.problems.jpeg import codec
from engine.problems.jpeg.quality_metrics import psnr
from engine.problems.jpeg.quantisation import QuantisationSet
from engine.problems.jpeg.tv import total_variation, tv_iterations

from .conftest import textured_image


def test_tv_of_a_constant_is_its_smoothing_only():
    assert total_variation(torch.full((4, 5), 0.3), epsilon=0.0).item() == 0.0
    ramp = torch.arange(5.0).repeat(4, 1) / 10
    assert torch.isclose(total_variation(ramp, epsilon=0.0), torch.tensor(4 * 4 * 0.1))


def test_tv_restoration_lowers_tv_stays_in_the_set_and_raises_psnr():
    clean = torch.from_numpy(codec.to_uint8(textured_image(48, 64, seed=3)).astype("float32") / 255)
    observed = torch.from_numpy(codec.roundtrip(clean.numpy(), 10))
    constraint = QuantisationSet(observed, 10)
    estimates = list(tv_iterations(observed, constraint, iterations=30))
    assert len(estimates) == 30 and estimates[-1].shape == observed.shape
    assert total_variation(estimates[-1]) < total_variation(observed)
    assert constraint.distance(estimates[-1]) < 1e-2
    assert psnr(estimates[-1][None, None], clean[None, None]) > psnr(observed[None, None], clean[None, None])
