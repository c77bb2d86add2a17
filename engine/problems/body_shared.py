"""What the SMPL-family problems share: estimates typed by the user (a library pose or motion, 'squat',
'walk-cycle': every frame, a .npy/.npz/.bvh file of SMPL poses retargeted to the default body, or the problem's own
numbers), reading an observation's JSON file, and the body views' legend."""
from __future__ import annotations

import json
import os
from typing import Any, Callable

import torch

from .spec import Legend, parse_numbers

MAX_JSON_BYTES = 64 * 2**20

POSES_HINT = "a library pose (squat, a-pose, ...), walk-cycle, a .npy/.npz/.bvh file or {} comma-separated numbers"


def parse_body_estimate(text: str, label: str, dimension: int, from_poses: Callable[[torch.Tensor], torch.Tensor]
                        ) -> torch.Tensor:
    """(B, dimension) estimates: from_poses of the SMPL poses (B, 24, 3) a name or file gives, or one row of
    `dimension` comma-separated numbers; ValueError (one line, `label` naming what was expected) otherwise."""
    from .ik.data import typed_poses

    hint = POSES_HINT.format(dimension)
    if "," in text:
        return parse_numbers(text, dimension, label, hint)
    return from_poses(typed_poses(text, f"a {label}", hint).float())


def read_json(path: str, missing: str) -> Any:
    """The content of an observation's JSON file; ValueError (one line naming the file) when it is missing
    (`missing` says how to make one), larger than MAX_JSON_BYTES or not JSON."""
    if not os.path.isfile(path):
        raise ValueError(f"{path}: {missing}")
    if os.path.getsize(path) > MAX_JSON_BYTES:
        raise ValueError(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MiB; give long sequences as .npy")
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({type(error).__name__})") from None


def error_legend() -> Legend:
    """The legend of the fitted body views' vertex-error colours."""
    from ..bodies.pictures import error_legend_mm

    return Legend("body by vertex error: ", tuple(error_legend_mm()))
