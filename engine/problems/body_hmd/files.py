"""body-hmd's files and typed values.

Signal files (observations), each item the device's report in the world frame (metres, +y up, floor y = 0;
sensors.py for the headset's offset and frame):
- .npy: float array (N, 78) in the flat layout of sensors.FIELDS, or (78,) for one item;
- .json: one item as an object, or {"frames": [item, ...]} for N, each item
    {"headset": {"position": [x, y, z], "rotation": [[3], [3], [3]]},
     "left_hand": {"visible": true, "wrist": {"position": [3], "rotation": [[3], [3], [3]]},
                   "fingertips": [[x, y, z] x 5]},          # thumb, index, middle, ring, pinky
     "right_hand": {...}, "betas": [up to 10 numbers]}
  an invisible hand needs only {"visible": false}.
Checked: the length, finite numbers, visibility flags 0 or 1, rotations that are rotations (orthonormal within
ROTATION_TOLERANCE, determinant +1) and betas within +-5; an invisible hand's numbers are ignored (zeroed).

Estimates typed by the user: a library pose name or .npy/.npz/.bvh file of SMPL poses (the body joints, flat
hands, facing +z, standing on the floor over the origin with the config's shape), or 159 comma-separated numbers
(root and body rotations 66, hand rotations 90, translation 3).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from ...npfiles import load_npy_observation, save_npy
from ..body_shared import parse_body_estimate, read_json
from . import sensors
from .problem import BODY_DIM, OBSERVATION, X_DIM, BodyHmdConfig, config_betas, rest_pose, stand

EXTENSIONS = (".npy", ".json")
ROTATION_TOLERANCE = 1e-3
LAYOUT = f"(N, {sensors.OBSERVATION_SIZE}): headset, wrists, fingertips, visibility flags and betas (sensors.FIELDS)"


def load_observation(path: str) -> np.ndarray:
    """(N, 78) float32 signals of a .npy or .json file (module docstring); ValueError with one line."""
    if path.lower().endswith(".json"):
        array = _load_json(path)
    else:
        array = load_npy_observation(path, "body-hmd", lambda shape: len(shape) == 2 and shape[1:] == (
            sensors.OBSERVATION_SIZE,), "device signals", LAYOUT, OBSERVATION.check_limits, 1)
    return check_signals(array, path)


def check_signals(array: np.ndarray, path: str) -> np.ndarray:
    """The signals with invisible hands zeroed; ValueError (one line, naming the file and the item) for a flag
    that is not 0 or 1, a rotation that is not one, or betas beyond +-5."""
    flags = array[:, sensors.SLICES["visible"]]
    bad = np.flatnonzero(~np.isin(flags, (0.0, 1.0)).all(axis=1))
    if len(bad):
        raise ValueError(f"{path}: item {bad[0]}'s visibility flags must be 1 (visible) or 0, got "
                         f"{flags[bad[0]].tolist()}")
    betas = array[:, sensors.SLICES["betas"]]
    if np.abs(betas).max(initial=0.0) > 5.0:
        raise ValueError(f"{path}: item {np.flatnonzero(np.abs(betas).max(axis=1) > 5)[0]}'s betas go beyond +-5, "
                         "which is not a human shape")
    signals = sensors.unpack(torch.from_numpy(array))
    for name, rotations, shown in (("headset", signals.headset_rotation, torch.ones(len(array), dtype=torch.bool)),
                                   ("left wrist", signals.wrist_rotations[:, 0], signals.visible[:, 0] > 0),
                                   ("right wrist", signals.wrist_rotations[:, 1], signals.visible[:, 1] > 0)):
        wrong = (~_is_rotation(rotations.double())) & shown
        if bool(wrong.any()):
            item = int(wrong.nonzero()[0])
            raise ValueError(f"{path}: item {item}'s {name} rotation is not a rotation matrix (orthonormal rows, "
                             "determinant +1); give it row by row")
    return sensors.pack(signals).numpy()


def _is_rotation(matrices: torch.Tensor) -> torch.Tensor:
    identity = torch.eye(3, dtype=matrices.dtype)
    orthonormal = (matrices @ matrices.transpose(1, 2) - identity).abs().amax((1, 2)) < ROTATION_TOLERANCE
    return orthonormal & (torch.linalg.det(matrices) > 0)


def _load_json(path: str) -> np.ndarray:
    content = read_json(path, f"no such signal file; make one with `feedbacklab render body-hmd --out {path}`")
    frames = content.get("frames", [content]) if isinstance(content, dict) else None
    if not isinstance(frames, list) or not frames:
        raise ValueError(f"{path}: expected a JSON object with \"headset\", \"left_hand\", \"right_hand\" and "
                         "\"betas\", or {\"frames\": [such objects]}")
    OBSERVATION.check_limits((len(frames), sensors.OBSERVATION_SIZE), path)
    rows = []
    for index, frame in enumerate(frames):
        try:
            rows.append(_item(frame))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"{path}: item {index} is not a device report ({_why(error)}); expected {LAYOUT} as "
                             "named fields (module docstring of engine/problems/body_hmd/files.py)") from None
    array = np.stack(rows).astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{path}: the signals contain NaN or infinite values")
    return array


def _why(error: Exception) -> str:
    return f"no {error}" if isinstance(error, KeyError) else str(error).split("\n")[0][:80]


def _numbers(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array.reshape(-1)


def _item(frame: dict) -> np.ndarray:
    """One item's 78 numbers from its named fields."""
    headset = frame["headset"]
    parts = [_numbers(headset["position"], (3,), "headset position"),
             _numbers(headset["rotation"], (3, 3), "headset rotation")]
    flags, tips = [], []
    for side in sensors.SIDES:
        hand = frame[f"{side}_hand"]
        visible = hand["visible"]
        if visible not in (True, False, 0, 1):
            raise ValueError(f"{side}_hand visible must be true or false, got {visible!r}")
        flags.append(float(visible))
        wrist = hand["wrist"] if visible else {"position": np.zeros(3), "rotation": np.zeros((3, 3))}
        parts += [_numbers(wrist["position"], (3,), f"{side} wrist position"),
                  _numbers(wrist["rotation"], (3, 3), f"{side} wrist rotation")]
        tips.append(_numbers(hand["fingertips"], (5, 3), f"{side} fingertips") if visible else np.zeros(15))
    betas = np.asarray(frame["betas"], dtype=np.float64).reshape(-1)
    if len(betas) > sensors.NUM_BETAS:
        raise ValueError(f"at most {sensors.NUM_BETAS} betas, got {len(betas)}")
    return np.concatenate(parts + tips + [flags, np.pad(betas, (0, sensors.NUM_BETAS - len(betas)))])


def save_observation(path: str, array: np.ndarray) -> None:
    """Writes (N, 78) signals as .json (named fields, module docstring) or .npy."""
    if not path.lower().endswith(".json"):
        save_npy(path, array)
        return
    signals = sensors.unpack(torch.as_tensor(np.asarray(array, dtype=np.float64)))
    frames = []
    for b in range(len(array)):
        def pose(position: torch.Tensor, rotation: torch.Tensor) -> dict[str, Any]:
            return {"position": _rounded(position), "rotation": _rounded(rotation)}

        frame: dict[str, Any] = {"headset": pose(signals.headset_position[b], signals.headset_rotation[b])}
        for h, side in enumerate(sensors.SIDES):
            visible = bool(signals.visible[b, h] > 0)
            frame[f"{side}_hand"] = {"visible": visible, **({"wrist": pose(
                signals.wrist_positions[b, h], signals.wrist_rotations[b, h]), "fingertips": _rounded(
                signals.fingertips[b, h])} if visible else {})}
        frame["betas"] = _rounded(signals.betas[b])
        frames.append(frame)
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"frames": frames}, file)


def _rounded(values: torch.Tensor) -> list:
    return np.round(values.numpy(), 6).tolist()


def parse_x(text: str, config: Any = None) -> torch.Tensor:
    """(B, 159) from a pose name or file, or 159 numbers (module docstring)."""
    
    config = config if isinstance(config, BodyHmdConfig) else BodyHmdConfig()

    def from_poses(poses: torch.Tensor) -> torch.Tensor:
        x = rest_pose(len(poses))
        x[:, :3 + BODY_DIM] = poses[:, :22].flatten(1)
        return stand(x, config_betas(config, len(x)), torch.zeros(len(x), 2))

    return parse_body_estimate(text, "body-hmd estimate", X_DIM, from_poses)
