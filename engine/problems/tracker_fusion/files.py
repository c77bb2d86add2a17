"""What a user types or loads for tracker-fusion: boxes as text, and observations as .npy arrays (N, 72, 5) of the
trackers' boxes with the frame's time (never a pickle; a bad file is refused with one line)."""
from __future__ import annotations

import numpy as np
import torch

from ...npfiles import load_npy_observation
from .energy import PROBLEM
from .problem import OBSERVATION
from .simulation import NUM_TRACKERS

OBSERVATION_EXTENSIONS = (".npy",)
LAYOUT = f"(N, {NUM_TRACKERS}, 5): per tracker x1, y1, x2, y2 in pixels and the frame's index in its sequence"


def load_observation(path: str) -> np.ndarray:
    """(N, 72, 5) float32 from a .npy file; ValueError naming the file and what is wrong."""
    array = load_npy_observation(path, PROBLEM, lambda shape: len(shape) == 3 and shape[1:] == (NUM_TRACKERS, 5),
                                 "tracker boxes", LAYOUT, OBSERVATION.check_limits, 2)
    times = array[:, :, 4]
    if (times != times[:, :1]).any() or (times < 0).any():
        raise ValueError(f"{path}: column 5 must be the frame's index in its sequence (>= 0), the same for every "
                         "tracker of an observation")
    return array


def parse_box(text: str, config: object = None) -> torch.Tensor:
    """(1, 4) a box 'x1,y1,x2,y2' in pixels, top-left corner first."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = None
    if values is None or len(values) != 4 or not np.isfinite(values).all():
        raise ValueError(f"box {text[:40]!r}: give x1,y1,x2,y2, four numbers (pixels of the 640x480 frame)")
    if not (values[0] < values[2] and values[1] < values[3]):
        raise ValueError(f"box {text[:40]!r}: the top-left corner (x1, y1) must be above and left of the "
                         "bottom-right one (x2, y2)")
    return torch.tensor([values], dtype=torch.float32)


def format_box(x: np.ndarray) -> str:
    return ",".join(f"{float(v):.2f}" for v in np.asarray(x).reshape(-1))
