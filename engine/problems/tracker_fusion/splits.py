"""The two partitions of the paper's Table 1: whole sequences assigned at random to training (two thirds) and
test, or frames missing at random (each frame to training with probability two thirds, so that frames of the
same sequence are on both sides); and what the training frames say about the single trackers."""
from __future__ import annotations

import functools

import torch

from .boxes import iou
from .simulation import Dataset, simulate, tracker_boxes

PARTITIONS = ("sequences", "frames")
SPLITS = ("train", "test")
TRAINING_SHARE = 2 / 3


def split_frames(dataset: Dataset, partition: str, split: str, seed: int) -> torch.Tensor:
    """(n,) indices of the split's frames in the dataset, in order."""
    if partition not in PARTITIONS or split not in SPLITS:
        raise ValueError(f"unknown partition {partition!r} or split {split!r}: choose {PARTITIONS} and {SPLITS}")
    generator = torch.Generator().manual_seed(10_007 * seed + 1)
    if partition == "sequences":
        count = int(dataset.sequence.max()) + 1
        training = torch.randperm(count, generator=generator)[:round(TRAINING_SHARE * count)]
        in_training = torch.isin(dataset.sequence, training)
    else:
        in_training = torch.rand(len(dataset.sequence), generator=generator) < TRAINING_SHARE
    return torch.nonzero(in_training if split == "train" else ~in_training).squeeze(1)


def shuffled(index: torch.Tensor, seed: int) -> torch.Tensor:
    """The frames in an order fixed by the seed, so that the first few of a split are spread over it."""
    return index[torch.randperm(len(index), generator=torch.Generator().manual_seed(10_007 * seed + 2))]


def tracker_ious(dataset: Dataset, index: torch.Tensor) -> torch.Tensor:
    """(72,) each tracker's mean IoU with the truth over these frames."""
    truth = dataset.truth[index]
    return iou(tracker_boxes(truth, dataset.draws.index(index)), truth[:, None]).mean(0)


@functools.lru_cache(maxsize=8)
def best_tracker(seed: int, sequences: int, partition: str) -> int:
    """The tracker of the best mean IoU on the partition's training frames (the 'best single tracker' baseline,
    evaluated on the test frames)."""
    dataset = simulate(seed, sequences)
    return int(tracker_ious(dataset, split_frames(dataset, partition, "train", seed)).argmax())
