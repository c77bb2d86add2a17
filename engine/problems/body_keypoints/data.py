"""Ground truths and the simulated keypoint detector of the body-keypoints problem.

Ground truth: a pose of the config's split (the ik problem's pose splits: joint-limit sampler, pose library, walk
cycle and motion capture; the learned solvers train on the train split with its motion capture frames, and are
tested on the test split's sampler poses or the CMU clips), a random shape (engine.bodies.shapes), a
random global rotation (yaw uniform within +-max_yaw_deg, pitch and roll within +-TILT_DEG) and a weak-perspective
camera that frames the body in the crop (scale within SCALE_RANGE, the pelvis within CENTRE_JITTER of the centre).

Detector: each keypoint's pixel noise N(0, noise_px^2), a share outlier_rate of outliers (OUTLIER_PX away in a
random direction, with a confident score like any other), a share drop_rate of dropped keypoints (confidence 0,
placed at the crop's centre) and confidences uniform in CONFIDENCE_RANGE for the others; one draw per item, from
the config's detector_seed.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ...rotations import euler_to_matrix, matrix_to_axis_angle

TILT_DEG = 15.0
SCALE_RANGE = (0.8, 1.1)
"""Crop half-widths per metre: a 1.7 m body spans 70-95% of the crop's height."""
CENTRE_JITTER = 0.05
OUTLIER_PX = (20.0, 60.0)
CONFIDENCE_RANGE = (0.6, 1.0)


class Detections(NamedTuple):
    """What the simulated detector adds to the projected keypoints of each item."""

    offset: torch.Tensor
    """(B, K, 2) crop units: noise, and the outliers' displacement."""
    confidence: torch.Tensor
    """(B, K) in [0, 1]; 0 for dropped keypoints."""

    def subset(self, index: torch.Tensor) -> "Detections":
        return Detections(self.offset[index.to(self.offset.device)], self.confidence[index.to(self.offset.device)])


def detections(count: int, keypoints: int, noise_px: float, outlier_rate: float, drop_rate: float,
               image_size: int, generator: torch.Generator) -> Detections:
    """The detector's draws for `count` items (module docstring); pixels become crop units (2 / image_size)."""
    unit = 2.0 / image_size
    noise = torch.randn(count, keypoints, 2, generator=generator) * noise_px
    outlier = torch.rand(count, keypoints, generator=generator) < outlier_rate
    angle = torch.rand(count, keypoints, generator=generator) * 2 * math.pi
    low, high = OUTLIER_PX
    length = (low + torch.rand(count, keypoints, generator=generator) * (high - low)) * outlier
    offset = (noise + torch.stack([angle.cos(), angle.sin()], -1) * length[..., None]) * unit
    low, high = CONFIDENCE_RANGE
    confidence = low + torch.rand(count, keypoints, generator=generator) * (high - low)
    dropped = torch.rand(count, keypoints, generator=generator) < drop_rate
    return Detections(offset, torch.where(dropped, torch.zeros_like(confidence), confidence))


def random_orientations(count: int, max_yaw_deg: float, generator: torch.Generator) -> torch.Tensor:
    """(count, 3) axis-angle global rotations: yaw about +y within +-max_yaw_deg, then pitch and roll."""
    limits = torch.tensor([TILT_DEG, max_yaw_deg, TILT_DEG])
    angles = torch.deg2rad((torch.rand(count, 3, generator=generator) * 2 - 1) * limits)
    return matrix_to_axis_angle(euler_to_matrix(angles[:, [1, 0, 2]], "YXZ"))



def framing_cameras(pelvis_xy: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(count, 3) weak-perspective cameras (scale, tx, ty) putting the pelvis (count, 2) near the crop's centre."""
    count = len(pelvis_xy)
    low, high = SCALE_RANGE
    scale = low + torch.rand(count, generator=generator) * (high - low)
    jitter = (torch.rand(count, 2, generator=generator) * 2 - 1) * CENTRE_JITTER
    return torch.cat([scale[:, None], -scale[:, None] * pelvis_xy + jitter], dim=1)
