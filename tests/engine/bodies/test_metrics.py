"""Body metrics: root-aligned and Procrustes-aligned mean distances in millimetres."""
from __future__ import annotations

import pytest
import torch

from engine.bodies.metrics import mean_distance_mm, procrustes, procrustes_aligned_mm, root_aligned_mm
from engine.rotations import axis_angle_to_matrix


def test_procrustes_undoes_a_similarity_transform():
    truth = torch.randn(3, 24, 3, generator=torch.Generator().manual_seed(0))
    turn = axis_angle_to_matrix(torch.tensor([[0.3, -1.2, 0.5]]))
    estimate = 1.7 * truth @ turn.transpose(1, 2) + torch.tensor([0.2, -0.4, 3.0])
    torch.testing.assert_close(procrustes(estimate, truth), truth, atol=1e-4, rtol=0)
    assert float(procrustes_aligned_mm(estimate, truth).max()) < 0.1
    assert float(mean_distance_mm(estimate, truth).min()) > 100


def test_procrustes_never_reflects():
    truth = torch.randn(1, 10, 3, generator=torch.Generator().manual_seed(1))
    mirrored = truth * torch.tensor([-1.0, 1.0, 1.0])
    assert float(procrustes_aligned_mm(mirrored, truth)) > 1.0


def test_root_alignment_ignores_a_shift_and_counts_in_millimetres():
    truth = torch.zeros(2, 4, 3)
    estimate = truth + torch.tensor([1.0, 2.0, 3.0])
    estimate[:, 1, 0] += 0.01
    errors = root_aligned_mm(estimate, truth, estimate[:, 0], truth[:, 0])
    torch.testing.assert_close(errors, torch.full((2,), 2.5))


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="shape"):
        mean_distance_mm(torch.zeros(2, 4, 3), torch.zeros(2, 5, 3))
