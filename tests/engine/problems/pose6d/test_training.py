import pytest
import torch

from engine.problems.pose6d.training import Pose6DTrainConfig, apply_update, update_target


def test_target_and_update_are_inverse():
    x = torch.tensor([[1.0, 0, 0, 0, 0, 0, 0]])
    truth = torch.tensor([[-0.9, -0.1, 0.3, 0.0, 0.1, 0.0, -0.2]])  # the quaternion's sign is irrelevant
    target = update_target(x, truth)
    assert target[0, 0] == pytest.approx(-0.1)  # towards +(0.9, ...), not -(0.9, ...)
    reached = apply_update(x, target)
    assert torch.allclose(reached[0, 4:], truth[0, 4:])
    assert torch.allclose(reached[0, :4].abs(), (truth[0, :4] / truth[0, :4].norm()).abs(), atol=1e-6)


def test_image_size_must_suit_the_network():
    with pytest.raises(ValueError, match="divisible by 32"):
        Pose6DTrainConfig(image_size=100)
    with pytest.raises(ValueError, match="--size"):
        Pose6DTrainConfig(image_size=8)
