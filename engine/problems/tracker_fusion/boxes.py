"""Boxes as (x1, y1, x2, y2) in pixels, top-left and bottom-right corners, on the last axis: centres, sizes,
intersection over union and corner errors, for the simulation, the energy and the metrics alike."""
from __future__ import annotations

import torch

FRAME_WIDTH, FRAME_HEIGHT = 640, 480
"""The simulated camera's frame, pixels."""


def centres(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 2) the boxes' centres."""
    return 0.5 * (boxes[..., :2] + boxes[..., 2:])


def sizes(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 2) width and height (negative for a box whose corners are swapped)."""
    return boxes[..., 2:] - boxes[..., :2]


def box_from(centre: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    """(..., 4) the box of this centre and size (..., 2)."""
    return torch.cat([centre - 0.5 * size, centre + 0.5 * size], dim=-1)


def iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(...) intersection over union of boxes (..., 4); a box with swapped corners has no area (IoU 0)."""
    top_left = torch.maximum(a[..., :2], b[..., :2])
    bottom_right = torch.minimum(a[..., 2:], b[..., 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(-1)
    area_a, area_b = sizes(a).clamp(min=0).prod(-1), sizes(b).clamp(min=0).prod(-1)
    union = area_a + area_b - intersection
    return torch.where(union > 0, intersection / union.clamp(min=1e-12), torch.zeros_like(union))


def corner_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(...) the mean distance of the two corners of boxes (..., 4), pixels."""
    return 0.5 * ((a[..., :2] - b[..., :2]).norm(dim=-1) + (a[..., 2:] - b[..., 2:]).norm(dim=-1))
