"""pose-from-2d's files and typed values: observations as .npy arrays of detected joints (N, C, 17, 2) in pixels,
and ground truths or initial estimates as text (a pose name or file, or 52 numbers)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...npfiles import load_npy_observation
from .cameras import TARGET
from .data import X_DIM, canonical_poses
from .problem import CAMERA_CHOICES, OBSERVATION
from .skeleton import NUM

EXTENSIONS = (".npy",)


def load_observation(path: str) -> np.ndarray:
    """(N, C, 17, 2) float32 detections of a .npy file ((C, 17, 2) is one item); ValueError with one line."""
    return load_npy_observation(
        path, "pose-from-2d", lambda shape: len(shape) == 4 and shape[1] in CAMERA_CHOICES and shape[2:] == (NUM, 2),
        "detected joints", f"(N, C, {NUM}, 2) in pixels with C one of {' or '.join(map(str, CAMERA_CHOICES))}",
        OBSERVATION.check_limits, 3)


def fit_config(config: Any, observation: np.ndarray) -> Any:
    """The config with as many cameras as the observation (N, C, 17, 2) has."""
    from dataclasses import replace

    cameras = int(np.asarray(observation).shape[1])
    return config if cameras == config.cameras else replace(config, cameras=cameras)


def parse_x(text: str, config: Any = None) -> torch.Tensor:
    """(B, 52) from a library pose or motion name ('squat', 'walk-cycle': every frame) or a .npy/.npz/.bvh file of
    SMPL poses (facing +z at the rig's target), or 52 comma-separated numbers (yaw, root, pose)."""
    from ..body_shared import parse_body_estimate

    def from_poses(poses: torch.Tensor) -> torch.Tensor:
        pose = canonical_poses(poses)
        placed = torch.cat([torch.zeros(len(pose), 1), torch.tensor(TARGET).expand(len(pose), 3)], dim=1)
        return torch.cat([placed, pose], dim=1)

    return parse_body_estimate(text, "pose-from-2d pose", X_DIM, from_poses)


def format_x(x: np.ndarray) -> str:
    return ",".join(f"{float(v):.4f}" for v in np.asarray(x).reshape(-1))
