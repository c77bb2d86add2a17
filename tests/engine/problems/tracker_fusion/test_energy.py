"""The fusion energy: the paper's sum of RBFs up to a constant, its residuals, the lowest-energy centres, its
gradients in the box and in the weights, and the weights files it reads."""
from __future__ import annotations

import pytest
import torch

from engine.learn.energy_weights import EnergyWeightsError, save_energy_weights
from engine.problems.tracker_fusion import energy as fusion_energy
from engine.problems.tracker_fusion.simulation import NUM_TRACKERS, simulate, tracker_boxes


def frames(count: int = 5, dtype=torch.float32):
    data = simulate(0, 3)
    index = torch.arange(0, count * 17, 17)
    truth = data.truth[index].to(dtype)
    return truth, tracker_boxes(truth, data.draws.index(index)).to(dtype), data.draws.time[index].to(dtype)


def random_weights(dtype=torch.float64, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    weights = fusion_energy.untrained_weights()
    return {name: (value + 0.1 * torch.randn(value.shape, generator=generator)).to(dtype)
            for name, value in weights.items()}


def test_energy_is_the_papers_sum_of_rbfs_plus_a_constant():
    truth, boxes, time = frames(dtype=torch.float64)
    weights = random_weights()
    y = truth + 3.0
    rbf_centres, widths, importance = fusion_energy.rbf_terms(boxes, time, weights)
    squared = (y.reshape(-1, 2, 1, 2) - rbf_centres).square().sum(-1)
    papers = -(importance * torch.exp(-squared / (2 * widths ** 2))).sum((1, 2))
    torch.testing.assert_close(fusion_energy.energy(y, boxes, time, weights), papers + importance.sum((1, 2)))


def test_untrained_energy_has_equal_widths_and_no_correction():
    truth, boxes, time = frames()
    rbf_centres, widths, importance = fusion_energy.rbf_terms(boxes, time, fusion_energy.untrained_weights())
    torch.testing.assert_close(widths, torch.full((2, NUM_TRACKERS), fusion_energy.UNTRAINED_WIDTH))
    torch.testing.assert_close(importance, torch.ones_like(importance))
    torch.testing.assert_close(rbf_centres.transpose(1, 2).reshape(-1, NUM_TRACKERS, 4), boxes)


@pytest.mark.parametrize("offset", [0.0, 1e-4, 2.0, 40.0])
def test_residuals_square_to_the_energy_even_at_a_centre(offset):
    truth, boxes, time = frames(dtype=torch.float64)
    weights = random_weights()
    y = boxes[:, 3] + offset  # tracker 3's box: a residual is zero there
    residuals = fusion_energy.residuals(y, boxes, time, weights)
    assert residuals.shape == (len(y), 2 * NUM_TRACKERS * 2) and torch.isfinite(residuals).all()
    torch.testing.assert_close(residuals.square().sum(1), fusion_energy.energy(y, boxes, time, weights))


def test_best_centres_are_the_lowest_energy_rbf_centres():
    truth, boxes, time = frames()
    weights = fusion_energy.untrained_weights()
    start = fusion_energy.best_centres(boxes, time, weights)
    best = fusion_energy.energy(start, boxes, time, weights)
    for k in range(NUM_TRACKERS):
        assert (best <= fusion_energy.energy(boxes[:, k], boxes, time, weights) + 1e-5).all()


def test_gradients_in_the_box_and_the_weights():
    truth, boxes, time = frames(2, dtype=torch.float64)
    weights = random_weights()
    names = list(weights)

    def energy(y, *values):
        return fusion_energy.energy(y, boxes, time, dict(zip(names, values))).sum()

    inputs = (truth + 2.0, *weights.values())
    assert torch.autograd.gradcheck(energy, tuple(v.clone().requires_grad_(True) for v in inputs))


def test_weights_files(tmp_path):
    assert fusion_energy.weights_path("untrained", "frames") is None
    assert fusion_energy.weights_path("trained", "frames").endswith("tracker-fusion-frames.safetensors")
    path = tmp_path / "fusion.safetensors"
    weights = random_weights(torch.float32)
    save_energy_weights(path, fusion_energy.PROBLEM, weights, {})
    loaded = fusion_energy.load_weights(str(path), "sequences")
    torch.testing.assert_close(loaded["shift"], weights["shift"])
    with pytest.raises(EnergyWeightsError, match="no such energy weights file.*train tracker-fusion"):
        fusion_energy.load_weights(str(tmp_path / "missing.safetensors"), "sequences")
    partial = tmp_path / "partial.safetensors"
    save_energy_weights(partial, fusion_energy.PROBLEM, {"log_width": weights["log_width"]}, {})
    with pytest.raises(EnergyWeightsError, match="do not fit"):
        fusion_energy.load_weights(str(partial), "sequences")
