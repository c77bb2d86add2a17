"""The jpeg slice axes move an image and find the move again along a path."""
import numpy as np
import torch

from engine.problems.jpeg.slice import SLICE_AXES


def test_each_axis_reads_back_its_own_offset():
    center = torch.rand(1, 64, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
    offsets = torch.tensor([-4.0, 0.0, 3.0])
    for axis in SLICE_AXES:
        moved = axis.move(center.expand(3, -1), offsets)
        assert moved.shape == (3, 64)
        np.testing.assert_allclose(axis.coordinate(moved.numpy(), center[0].numpy()), offsets.numpy(), atol=1e-4)
