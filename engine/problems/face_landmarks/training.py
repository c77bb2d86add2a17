"""The learned fitters' training problems for face-landmarks: synthetic faces of the train split (validation: the
val split) seen by the default camera with the detector's noise, on the shipped face model (or a given one)."""
from __future__ import annotations

from typing import Any

import torch

from ...faces.model import FaceModel
from .data import ACTIVE_ACTIONS, DISTANCE_M, EYE_DEG, HEAD_DEG, IDENTITY_CLIP, NECK_DEG
from .problem import FaceLandmarksConfig, FaceLandmarksProblem, make_problem

CHUNK = 4096
"""Faces are made in chunks of this many (the face model's vertices of a whole set at once would not fit)."""


def make_set(count: int, seed: int, split: str, model: FaceModel | None = None
             ) -> tuple[FaceLandmarksProblem, torch.Tensor, torch.Tensor]:
    """`count` problems of a split: the problem batch, its observations (count, L, 2) and truths (count, D)."""
    problem = make_problem(FaceLandmarksConfig(split=split, noise_seed=seed), count, model=model)
    generator = torch.Generator().manual_seed(seed)
    truths, observations = [], []
    for start in range(0, count, CHUNK):
        part = problem.subset(torch.arange(start, min(start + CHUNK, count)))
        truths.append(part.sample_ground_truth(generator))
        with torch.no_grad():
            observations.append(part.forward(truths[-1]))
    return problem, torch.cat(observations), torch.cat(truths)


def training_meta() -> dict[str, Any]:
    """What a checkpoint records of its training data."""
    defaults = FaceLandmarksConfig()
    return {"training_set": "face-landmarks train split: synthetic faces (neck / head yaw, pitch, roll within "
                            f"{NECK_DEG} / {HEAD_DEG} deg, eyes {EYE_DEG}; identity N(0, 1) clipped at "
                            f"{IDENTITY_CLIP:g}; about {ACTIVE_ACTIONS:g} expressions active; {DISTANCE_M} m away); "
                            "validation: val split",
            "face": "default face (assets/face/default_face.npz)",
            "camera": {"image": [defaults.image_width, defaults.image_height], "focal_px": defaults.focal_px,
                       "principal_point": [defaults.principal_x, defaults.principal_y]},
            "noise_px": defaults.noise_px}
