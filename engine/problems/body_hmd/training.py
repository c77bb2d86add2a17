"""The learned fitters' training problems for body-hmd: ground truths of the train split (validation: the val
split) on random shapes, observed by the device with the default energy settings, HALF_SPACE_SHARE of the items
with the half-space visibility and the others fully visible, so that one fitter serves both settings."""
from __future__ import annotations

from typing import Any

import torch

from . import sensors
from .problem import BodyHmdConfig, BodyHmdProblem, make_problem

CHUNK = 4096
"""Ground truths are sampled in chunks of this many."""
HALF_SPACE_SHARE = 0.5


def make_set(count: int, seed: int, split: str) -> tuple[BodyHmdProblem, torch.Tensor, torch.Tensor]:
    """`count` problems of a split: the problem batch, its observations (count, 78) and truths (count, 159)."""
    problem = make_problem(BodyHmdConfig(visibility="full", split=split, shape_seed=seed, noise_seed=seed), count)
    generator = torch.Generator().manual_seed(seed)
    truth = torch.cat([problem.subset(torch.arange(start, min(start + CHUNK, count))).sample_ground_truth(generator)
                       for start in range(0, count, CHUNK)])
    with torch.no_grad():
        observation = problem.forward(truth)
    hidden = torch.rand(count, generator=generator) < HALF_SPACE_SHARE
    observation[hidden] = sensors.half_space(observation[hidden])
    return problem, observation, truth


def training_meta() -> dict[str, Any]:
    """What a checkpoint records of its training data."""
    defaults = BodyHmdConfig()
    return {"training_set": "body-hmd train split (ik's train poses with Boxing_Toes motion capture when installed), "
                            "random hand poses, shapes, yaws and places; validation: val split",
            "body": "default SMPL+H body (assets/body/default_body_smplh.npz)",
            "visibility": f"{HALF_SPACE_SHARE:.0%} half-space, the rest full",
            "device": {"headset_offset_m": list(sensors.HEADSET_OFFSET), "noise_mm": defaults.noise_mm,
                       "noise_deg": defaults.noise_deg}}
