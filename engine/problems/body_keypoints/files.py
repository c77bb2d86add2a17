"""body-keypoints' files and typed values.

Keypoint files (observations), each item 35 keypoints (KEYPOINT_NAMES' order) of (u, v, confidence), u and v in
crop coordinates [-1, 1] with v up, confidence in [0, 1] (0: not detected):
.npy (N, 35, 3), .npz ("keypoints") or .json ({"keypoints": ..., "keypoint_names": KEYPOINT_NAMES}), as
engine.problems.point_files reads them.
OpenPose's JSON is not read: its joints (BODY_25) are not SMPL's joints, so a mapping would bias every fit.

Estimates typed by the user: a library pose name or .npy/.npz/.bvh file (facing the camera, mean shape, centred),
or 85 comma-separated numbers (pose 72, betas 10, camera scale, tx, ty).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..point_files import EXTENSIONS, PointFiles
from .problem import DEFAULT_SCALE, KEYPOINT_NAMES, NUM_BETAS, NUM_KEYPOINTS, OBSERVATION, POSE_DIM, X_DIM

__all__ = ["EXTENSIONS", "load_observation", "parse_x", "save_observation"]
FILES = PointFiles("body-keypoints", "keypoint", KEYPOINT_NAMES, 3, f"(N, {NUM_KEYPOINTS}, 3): u, v in crop "
                   "coordinates [-1, 1] (v up) and a confidence in [0, 1]", OBSERVATION)
save_observation = FILES.save


def load_observation(path: str) -> np.ndarray:
    """(N, 35, 3) float32 keypoints of a .npy, .npz or .json file (module docstring); ValueError with one line."""
    array = FILES.load(path)
    confidence = array[..., 2]
    if confidence.min() < 0 or confidence.max() > 1:
        raise ValueError(f"{path}: confidences (the third number of each keypoint) must be within [0, 1]")
    if not (confidence > 0).any(axis=1).all():
        raise ValueError(f"{path}: an item has no detected keypoint (every confidence 0); nothing to fit")
    return array


def parse_x(text: str, config: Any = None) -> torch.Tensor:
    """(B, 85) from a pose name or file, or 85 numbers (module docstring)."""
    from ..body_shared import parse_body_estimate

    def from_poses(poses: torch.Tensor) -> torch.Tensor:
        rest = torch.zeros(len(poses), NUM_BETAS + 3)
        rest[:, NUM_BETAS] = DEFAULT_SCALE
        return torch.cat([poses.reshape(len(poses), POSE_DIM), rest], dim=1)

    x = parse_body_estimate(text, "body-keypoints estimate", X_DIM, from_poses)
    if abs(float(x[0, POSE_DIM:POSE_DIM + NUM_BETAS].abs().max())) > 5.0:
        raise ValueError(f"body-keypoints estimate {text[:40]!r}: betas beyond +-5 are not a human shape")
    if float(x[0, POSE_DIM + NUM_BETAS]) <= 0:
        raise ValueError(f"body-keypoints estimate {text[:40]!r}: the camera scale must be positive")
    return x
