"""The fusion energy (the paper's Sec. 4 and Fig. 3): per box corner, a sum of 72 radial basis functions, one per
tracker, centred at that tracker's corrected corner.

Each tracker's box is corrected about its own centre, its size scaled by exp(log_scale) (trackers that
consistently under- or overestimate the size) and its centre shifted by `shift` times its size (a consistent
bias); the top-left and bottom-right corners are independent components (the paper's Fig. 3), each with its
own per-tracker width s and temporal importance w(t) = exp(log_importance - decay t / TIME_SCALE), t the frame's
index in its sequence (so trackers that drift or fail later in a sequence can be discounted):

    E(y) = sum_corner sum_k w_k(t) (1 - exp(-|y_corner - c_k|^2 / (2 s_k^2)))

which is the paper's -sum_k w_k(t) exp(-|y - c_k|^2 / (2 s_k^2)) plus a constant: the same minima, gradients and
Hessians, but non-negative, so it is also a sum of squares (`residuals`). The untrained energy has every width
UNTRAINED_WIDTH pixels, importance 1 and no correction.

The minimum is searched as the paper does: from the lowest-energy RBF centre of each corner (`best_centres`),
then a continuous optimiser.
"""
from __future__ import annotations

import math
import os

import torch

from ...learn.energy_weights import energy_choice, shipped_energy
from .boxes import box_from, centres, sizes
from .simulation import NUM_TRACKERS

PROBLEM = "tracker-fusion"
UNTRAINED_WIDTH = 12.0
"""Pixels: about the spread of a good tracker's corners on a 100-pixel box."""
TIME_SCALE = 100.0
"""Frames per unit of the decay rate."""
WEIGHT_SHAPES = {"log_width": (2, NUM_TRACKERS), "log_importance": (2, NUM_TRACKERS), "decay": (2, NUM_TRACKERS),
                 "log_scale": (NUM_TRACKERS, 2), "shift": (NUM_TRACKERS, 2)}
"""Per corner (top-left, bottom-right) and tracker: width, importance and its decay; per tracker: the box's scale
correction (width, height) and centre shift."""
TRAINED_FILES = {"sequences": os.path.normpath(shipped_energy(PROBLEM)),
                 "frames": os.path.normpath(shipped_energy(PROBLEM)).replace(".safetensors", "-frames.safetensors")}
"""The shipped weights, one file per partition of the data (each trained on that partition's training frames)."""
EnergyWeights = dict[str, torch.Tensor]


def untrained_weights() -> EnergyWeights:
    shape = WEIGHT_SHAPES["log_width"]
    return {"log_width": torch.full(shape, math.log(UNTRAINED_WIDTH)), "log_importance": torch.zeros(shape),
            "decay": torch.zeros(shape), "log_scale": torch.zeros(WEIGHT_SHAPES["log_scale"]),
            "shift": torch.zeros(WEIGHT_SHAPES["shift"])}


def weights_path(choice: str, partition: str) -> str | None:
    """The file of --energy: None for 'untrained', the shipped file of the partition for 'trained', else a path."""
    if choice == "untrained":
        return None
    return TRAINED_FILES[partition] if choice == "trained" else choice


def load_weights(choice: str, partition: str) -> EnergyWeights:
    """The weights --energy names ('untrained', 'trained' or a file); EnergyWeightsError (one line) for a file that
    is missing or does not fit."""
    return energy_choice(PROBLEM, weights_path(choice, partition) or "untrained", untrained_weights())


def rbf_terms(boxes: torch.Tensor, time: torch.Tensor, weights: EnergyWeights
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The RBFs of trackers' boxes (B, 72, 4) at frame times (B,): centres (B, 2, 72, 2) per corner, widths
    (2, 72) and importances (B, 2, 72)."""
    weights = {name: value.to(boxes) for name, value in weights.items()}
    size = sizes(boxes)
    corrected = box_from(centres(boxes) + weights["shift"] * size, weights["log_scale"].exp() * size)
    rbf_centres = corrected.reshape(*boxes.shape[:2], 2, 2).transpose(1, 2)
    importance = (weights["log_importance"] - weights["decay"] * time.to(boxes)[:, None, None] / TIME_SCALE).exp()
    return rbf_centres, weights["log_width"].exp(), importance


def corner_energies(points: torch.Tensor, rbf_centres: torch.Tensor, widths: torch.Tensor,
                    importance: torch.Tensor) -> torch.Tensor:
    """(B, 2, P) each corner's energy at P points (B, 2, P, 2) per item and corner."""
    squared = (points[:, :, :, None, :] - rbf_centres[:, :, None, :, :]).square().sum(-1)  # (B, 2, P, 72)
    scaled = squared / (2 * widths.square()[None, :, None, :])
    return (importance[:, :, None, :] * -torch.expm1(-scaled)).sum(-1)


def energy(y: torch.Tensor, boxes: torch.Tensor, time: torch.Tensor, weights: EnergyWeights) -> torch.Tensor:
    """(B,) E(y) of boxes y (B, 4) given the trackers' boxes (B, 72, 4) at times (B,)."""
    terms = rbf_terms(boxes, time, weights)
    return corner_energies(y.reshape(-1, 2, 1, 2), *terms).sum((1, 2))


def residuals(y: torch.Tensor, boxes: torch.Tensor, time: torch.Tensor, weights: EnergyWeights) -> torch.Tensor:
    """(B, 288) with energy == residuals.square().sum(1): per corner and tracker the 2-vector
    d sqrt(w (1 - exp(-u)) / |d|^2), d = y - c, u = |d|^2 / (2 s^2), smooth at d = 0 where it is
    d sqrt(w) / (s sqrt 2)."""
    rbf_centres, widths, importance = rbf_terms(boxes, time, weights)
    difference = y.reshape(-1, 2, 1, 2) - rbf_centres  # (B, 2, 72, 2)
    scaled = difference.square().sum(-1) / (2 * widths.square())
    small = scaled < 1e-4
    safe = torch.where(small, torch.ones_like(scaled), scaled)
    ratio = torch.where(small, 1 - scaled / 2, -torch.expm1(-safe) / safe)  # (1 - exp(-u)) / u
    factor = (importance * ratio / (2 * widths.square())).sqrt()
    return (difference * factor[..., None]).reshape(len(y), -1)


def best_centres(boxes: torch.Tensor, time: torch.Tensor, weights: EnergyWeights) -> torch.Tensor:
    """(B, 4) per corner the RBF centre of lowest energy: the paper's start of the continuous optimisation."""
    rbf_centres, widths, importance = rbf_terms(boxes, time, weights)
    values = corner_energies(rbf_centres, rbf_centres, widths, importance)  # (B, 2, 72)
    best = values.argmin(-1)
    chosen = torch.gather(rbf_centres, 2, best[:, :, None, None].expand(-1, -1, 1, 2))
    return chosen.reshape(len(boxes), 4)
