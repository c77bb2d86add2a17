"""Simulated tracking sequences and 72 simulated trackers (the paper's Sec. 4 fuses the 72 entries of VOT2018,
whose archive is not reachable here).

A target box moves smoothly in a 640x480 frame, its size changing slowly. Each tracker is one entry of a fixed
population (the same 72 trackers run on every sequence, as VOT's entries do): a few good ones, many mediocre, some
poor. The population is drawn once (POPULATION_SEED), whatever the sequences' seed, so that learned per-tracker
weights hold for freshly simulated sequences. A tracker's box is the true box with its own centre bias, a scale
error (many underestimate the size), temporally correlated noise and a drift that grows with time, all as
fractions of the true size, and the tracker may fail (without reinitialisation, so failures pile up later in a
sequence): from then on it either sticks where it was or jumps to somewhere else in the frame and wanders there.
A sequence has a difficulty that scales every tracker's noise, drift and failure rate, and each tracker varies
from sequence to sequence.

Each frame keeps these nuisance draws relative to its true box (offset, scale) or absolute (a failed tracker's
box), so that `tracker_boxes(truth, draws)` is the trackers' output for any box taken as the truth, and the
simulated observation is that of the simulated truth. The first frame of a sequence, where trackers are given
the truth, is not part of the data; frame times start at 1.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np
import torch

from .boxes import FRAME_HEIGHT, FRAME_WIDTH, box_from, centres, sizes

NUM_TRACKERS = 72
TIERS = (("good", 8), ("mediocre", 44), ("poor", 20))
"""How many trackers of each quality the population holds."""
_PROFILES = {  # noise (size fraction), bias sd, log-scale mean and sd, drift (size / 100 frames), failures / 100 frames
    "good": dict(noise=(0.04, 0.08), bias=0.02, scale=(-0.02, 0.05), drift=(0.0, 0.05), hazard=(0.1, 0.5)),
    "mediocre": dict(noise=(0.05, 0.10), bias=0.04, scale=(-0.2, 0.04), drift=(0.03, 0.15), hazard=(0.2, 1.0)),
    "poor": dict(noise=(0.12, 0.3), bias=0.12, scale=(-0.2, 0.25), drift=(0.1, 0.5), hazard=(0.5, 2.5)),
}
"""Many mediocre trackers underestimate the size alike: their corners crowd together inside the true box, where
an untrained energy's deepest minimum lies."""
CORRELATION = 0.9
"""Frame-to-frame correlation of a tracker's noise."""
STICK_PROBABILITY = 0.6
"""A tracker that fails sticks where it was with this probability, else jumps elsewhere."""
SEQUENCE_LENGTHS = (80, 240)
POPULATION_SEED = 0


@dataclass(frozen=True)
class Population:
    """The 72 trackers' qualities (fixed by the simulation's seed)."""

    tier: tuple[str, ...]
    noise: np.ndarray
    bias: np.ndarray
    """(72, 2) centre offset, fractions of the true width and height."""
    log_scale: np.ndarray
    """(72, 2) log of the size the tracker reports over the true size."""
    drift: np.ndarray
    hazard: np.ndarray
    sticks: np.ndarray

    def name(self, k: int) -> str:
        return f"T{k:02d} ({self.tier[k]})"


@dataclass(frozen=True)
class Draws:
    """Per frame: its time and the trackers' nuisance draws (N first)."""

    time: torch.Tensor
    """(N,) the frame's index in its sequence (1 is the first tracked frame)."""
    offset: torch.Tensor
    """(N, 72, 4) added to each corner, fractions of the true (width, height, width, height)."""
    scale: torch.Tensor
    """(N, 72, 2) reported size over the true size."""
    failed: torch.Tensor
    """(N, 72) bool: the tracker has failed; its box is `fixed`."""
    fixed: torch.Tensor
    """(N, 72, 4) a failed tracker's box, pixels."""

    def __len__(self) -> int:
        return len(self.time)

    def index(self, index: torch.Tensor) -> "Draws":
        return Draws(**{f.name: getattr(self, f.name)[index.to(self.time.device)] for f in fields(self)})

    def to(self, device: torch.device | str) -> "Draws":
        return Draws(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


@dataclass(frozen=True)
class Dataset:
    """Every simulated frame: its true box, its sequence and its draws."""

    truth: torch.Tensor
    """(N, 4) pixels."""
    sequence: torch.Tensor
    """(N,) int64."""
    draws: Draws
    population: Population


def tracker_boxes(truth: torch.Tensor, draws: Draws) -> torch.Tensor:
    """(N, 72, 4) the trackers' boxes for true boxes (N, 4) under the draws of N frames; differentiable in truth."""
    size = sizes(truth)[:, None, :]
    centre = centres(truth)[:, None, :]
    tracked = box_from(centre, draws.scale * size) + draws.offset * size.repeat(1, 1, 2)
    return torch.where(draws.failed[..., None], draws.fixed.to(tracked.dtype), tracked)


@functools.lru_cache(maxsize=1)
def population(seed: int = POPULATION_SEED) -> Population:
    rng = np.random.default_rng([seed, 0])
    tier = np.array([name for name, count in TIERS for _ in range(count)])
    rng.shuffle(tier)
    columns: dict[str, list] = {key: [] for key in ("noise", "bias", "log_scale", "drift", "hazard")}
    for name in tier:
        profile = _PROFILES[name]
        columns["noise"].append(rng.uniform(*profile["noise"]))
        columns["bias"].append(rng.normal(0.0, profile["bias"], 2))
        columns["log_scale"].append(rng.normal(profile["scale"][0], profile["scale"][1], 2))
        columns["drift"].append(rng.uniform(*profile["drift"]))
        columns["hazard"].append(rng.uniform(*profile["hazard"]))
    arrays = {key: np.array(value) for key, value in columns.items()}
    return Population(tuple(tier), sticks=rng.random(NUM_TRACKERS) < STICK_PROBABILITY, **arrays)


def _truth_path(rng: np.random.Generator, length: int) -> np.ndarray:
    """(length, 4) a box moving smoothly inside the frame, its size changing slowly."""
    frame = np.array([FRAME_WIDTH, FRAME_HEIGHT], dtype=float)
    width = rng.uniform(50, 150)
    log_size = np.log([width, np.clip(width * np.exp(rng.uniform(-0.5, 0.5)), 30, 220)])
    centre = rng.uniform(0.5 * np.exp(log_size) + 10, frame - 0.5 * np.exp(log_size) - 10)
    velocity, growth = rng.normal(0, 2.0, 2), np.zeros(2)
    path = np.empty((length, 4))
    for t in range(length):
        size = np.exp(log_size)
        path[t] = np.concatenate([centre - size / 2, centre + size / 2])
        velocity = 0.92 * velocity + rng.normal(0, 1.0, 2)
        growth = 0.9 * growth + rng.normal(0, 0.006) + rng.normal(0, 0.002, 2)
        log_size = np.clip(log_size + growth, np.log(30), np.log(260))
        low, high = 0.5 * np.exp(log_size), frame - 0.5 * np.exp(log_size)
        centre = centre + velocity
        outside = (centre < low) | (centre > high)
        velocity[outside] *= -1
        centre = np.clip(centre, low, high)
    return path


def _sequence(rng: np.random.Generator, trackers: Population) -> dict[str, np.ndarray]:
    """One sequence's truth (L, 4) and, for its frames 1..L-1, time, offset, scale, failed and fixed."""
    length = int(rng.integers(SEQUENCE_LENGTHS[0], SEQUENCE_LENGTHS[1] + 1))
    truth = _truth_path(rng, length)
    factor = np.exp(rng.normal(0, 0.35)) * np.exp(rng.normal(0, 0.25, NUM_TRACKERS))
    noise = trackers.noise * factor
    log_scale = trackers.log_scale + rng.normal(0, 0.04, (NUM_TRACKERS, 2))
    direction = rng.normal(size=(NUM_TRACKERS, 2))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    drift = (trackers.drift * factor)[:, None] * direction
    scale_drift = 0.5 * trackers.drift * factor * rng.choice([-1.0, 1.0], NUM_TRACKERS)
    failure = rng.geometric(np.clip(trackers.hazard * factor / 100, 1e-6, 0.5))
    error = rng.normal(0, 1, (NUM_TRACKERS, 4)) * noise[:, None]
    fixed = np.zeros((NUM_TRACKERS, 4))
    wander = np.zeros((NUM_TRACKERS, 2))
    frame = np.array([FRAME_WIDTH, FRAME_HEIGHT], dtype=float)
    out = {key: np.empty((length - 1,) + shape) for key, shape in
           (("offset", (NUM_TRACKERS, 4)), ("scale", (NUM_TRACKERS, 2)), ("failed", (NUM_TRACKERS,)),
            ("fixed", (NUM_TRACKERS, 4)))}
    previous = np.repeat(truth[0][None], NUM_TRACKERS, 0)  # trackers start on the truth
    for t in range(1, length):
        fresh = rng.normal(0, 1, (NUM_TRACKERS, 4)) * noise[:, None]
        error = CORRELATION * error + np.sqrt(1 - CORRELATION ** 2) * fresh
        offset = np.tile(trackers.bias + drift * t / 100, 2) + error
        scale = np.exp(log_scale + (scale_drift * t / 100)[:, None])
        size = truth[t, 2:] - truth[t, :2]
        centre = 0.5 * (truth[t, :2] + truth[t, 2:])
        boxes = np.concatenate([centre - scale * size / 2, centre + scale * size / 2], 1) + offset * np.tile(size, 2)
        failing = failure == t
        jumping = failing & ~trackers.sticks
        fixed[failing & trackers.sticks] = previous[failing & trackers.sticks]
        if jumping.any():
            jump_size = np.minimum(size * np.exp(rng.normal(0, 0.3, (int(jumping.sum()), 2))), 0.8 * frame)
            jump_centre = rng.uniform(jump_size / 2, frame - jump_size / 2)
            fixed[jumping] = np.concatenate([jump_centre - jump_size / 2, jump_centre + jump_size / 2], 1)
        wanders = (failure < t) & ~trackers.sticks
        wander = 0.9 * wander + rng.normal(0, 1.5, (NUM_TRACKERS, 2))
        fixed[wanders] += np.tile(wander[wanders], 2)
        failed = failure <= t
        previous = np.where(failed[:, None], fixed, boxes)
        for key, value in (("offset", offset), ("scale", scale), ("failed", failed), ("fixed", fixed)):
            out[key][t - 1] = value
    out["truth"] = truth[1:]
    out["time"] = np.arange(1, length, dtype=float)
    return out


@functools.lru_cache(maxsize=4)
def simulate(seed: int, sequences: int) -> Dataset:
    """Every frame of `sequences` simulated sequences of the fixed tracker population (sequence j's frames do not
    depend on how many sequences there are). Cached: the problem, the trainer and the benchmark share it."""
    trackers = population()
    parts = [_sequence(np.random.default_rng([seed, 1, j]), trackers) for j in range(sequences)]

    def joined(key: str, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(np.concatenate([part[key] for part in parts]), dtype=dtype)

    sequence = torch.cat([torch.full((len(part["time"]),), j, dtype=torch.int64) for j, part in enumerate(parts)])
    draws = Draws(joined("time", torch.float32), joined("offset", torch.float32), joined("scale", torch.float32),
                  joined("failed", torch.bool), joined("fixed", torch.float32))
    return Dataset(joined("truth", torch.float32), sequence, draws, trackers)
