"""body-keypoints' files and typed values.

Keypoint files (observations), each item 35 keypoints (KEYPOINT_NAMES' order) of (u, v, confidence), u and v in
crop coordinates [-1, 1] with v up, confidence in [0, 1] (0: not detected):
- .npy: float array (N, 35, 3), or (35, 3) for one item;
- .npz: an array named "keypoints" of that shape (other arrays are ignored);
- .json: {"keypoints": [[u, v, c], ... 35]} for one item, or {"keypoints": [[[u, v, c], ...], ...]} for N; an
  optional "keypoint_names" list must then equal KEYPOINT_NAMES.
OpenPose's JSON is not read: its joints (BODY_25) are not SMPL's joints, so a mapping would bias every fit.

Estimates typed by the user: a library pose name or .npy/.npz/.bvh file (facing the camera, mean shape, centred),
or 85 comma-separated numbers (pose 72, betas 10, camera scale, tx, ty).
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import torch

from ...npfiles import load_npy_observation, save_npy
from .problem import DEFAULT_SCALE, KEYPOINT_NAMES, NUM_BETAS, NUM_KEYPOINTS, OBSERVATION, POSE_DIM, X_DIM

EXTENSIONS = (".npy", ".npz", ".json")
LAYOUT = f"(N, {NUM_KEYPOINTS}, 3): u, v in crop coordinates [-1, 1] (v up) and a confidence in [0, 1]"


def load_observation(path: str) -> np.ndarray:
    """(N, 35, 3) float32 keypoints of a .npy or .json file (module docstring); ValueError with one line."""
    if path.lower().endswith(".json"):
        array = _load_json(path)
    elif path.lower().endswith(".npz"):
        array = _load_npz(path)
    else:
        array = load_npy_observation(path, "body-keypoints",
                                     lambda shape: len(shape) == 3 and shape[1:] == (NUM_KEYPOINTS, 3),
                                     "keypoints", LAYOUT, OBSERVATION.check_limits, 2)
    confidence = array[..., 2]
    if confidence.min() < 0 or confidence.max() > 1:
        raise ValueError(f"{path}: confidences (the third number of each keypoint) must be within [0, 1]")
    if not (confidence > 0).any(axis=1).all():
        raise ValueError(f"{path}: an item has no detected keypoint (every confidence 0); nothing to fit")
    return array


def _load_json(path: str) -> np.ndarray:
    from ..body_shared import read_json

    content = read_json(path, "no such keypoint file")
    if not isinstance(content, dict) or "keypoints" not in content:
        raise ValueError(f"{path}: expected a JSON object with a \"keypoints\" list of {LAYOUT}")
    names = content.get("keypoint_names")
    if names is not None and list(names) != list(KEYPOINT_NAMES):
        raise ValueError(f"{path}: its keypoint_names are not this problem's {NUM_KEYPOINTS} keypoints "
                         f"({', '.join(KEYPOINT_NAMES[:3])}, ...)")
    return _checked(path, content["keypoints"])


def _load_npz(path: str) -> np.ndarray:
    from ...npfiles import NumpyFileError, read_npz

    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such keypoint file")
    try:
        arrays = read_npz(path)
    except NumpyFileError as error:
        raise ValueError(f"{path}: {error}") from None
    if "keypoints" not in arrays:
        raise ValueError(f"{path}: no array named \"keypoints\" of shape {LAYOUT}")
    return _checked(path, arrays["keypoints"])


def _checked(path: str, values) -> np.ndarray:
    """(N, 35, 3) float32 of an item or a sequence of them; ValueError (one line) for any other shape or NaN."""
    try:
        array = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: \"keypoints\" must be numbers of shape {LAYOUT}") from None
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (NUM_KEYPOINTS, 3):
        raise ValueError(f"{path}: \"keypoints\" has shape {array.shape}, expected {LAYOUT}")
    OBSERVATION.check_limits(array.shape, path)
    if not np.isfinite(array).all():
        raise ValueError(f"{path}: the keypoints contain NaN or infinite values")
    return array


def save_observation(path: str, array: np.ndarray) -> None:
    """Writes (N, 35, 3) keypoints as .json (with the keypoint names), .npz or .npy."""
    if path.lower().endswith(".npz"):
        np.savez(path, keypoints=np.asarray(array, dtype=np.float32))
    elif path.lower().endswith(".json"):
        with open(path, "w", encoding="utf-8") as file:
            json.dump({"keypoint_names": list(KEYPOINT_NAMES),
                       "keypoints": np.round(np.asarray(array, dtype=np.float64), 6).tolist()}, file)
    else:
        save_npy(path, array)


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
