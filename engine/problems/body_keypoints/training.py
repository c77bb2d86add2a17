"""The learned fitters' training problems for body-keypoints: ground truths of the train split (validation: the
val split), observed by the simulated detector with the default config, on the default body."""
from __future__ import annotations

from typing import Any

import torch

from .problem import BodyKeypointsConfig, BodyKeypointsProblem, make_problem

CHUNK = 4096
"""Ground truths are sampled in chunks of this many (the samplers' cost grows with the batch)."""


def make_set(count: int, seed: int, split: str) -> tuple[BodyKeypointsProblem, torch.Tensor, torch.Tensor]:
    """`count` problems of a split: the problem batch, its observations (count, 35, 3) and truths (count, 85)."""
    config = BodyKeypointsConfig(split=split, detector_seed=seed)
    problem = make_problem(config, count)
    truths = []
    generator = torch.Generator().manual_seed(seed)
    for start in range(0, count, CHUNK):
        part = problem.subset(torch.arange(start, min(start + CHUNK, count)))
        truths.append(part.sample_ground_truth(generator))
    truth = torch.cat(truths)
    with torch.no_grad():
        observation = problem.forward(truth)
    return problem, observation, truth


def training_meta() -> dict[str, Any]:
    """What a checkpoint records of its training data."""
    defaults = BodyKeypointsConfig()
    return {"training_set": "body-keypoints train split (ik's train poses with Boxing_Toes motion capture when "
                            "installed), random shapes, rotations and cameras; validation: val split",
            "body": "default body (assets/body/default_body.npz)",
            "detector": {"image_size": defaults.image_size, "noise_px": defaults.noise_px,
                         "outlier_rate": defaults.outlier_rate, "drop_rate": defaults.drop_rate,
                         "max_yaw_deg": defaults.max_yaw_deg}}
