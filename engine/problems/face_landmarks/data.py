"""Synthetic faces for face-landmarks, as the paper's face data set (supplementary Sec. 11.3): parameters sampled
from the model's space, their landmarks projected by the calibrated camera, plus pixel noise.

Ground truth of one face:
- rotations: the neck and the head each turned by intrinsic Euler angles (yaw about +y, pitch about +x, roll
  about +z) uniform within NECK_DEG and HEAD_DEG, the eyes within EYE_DEG;
- identity: standard normal coefficients, clipped at +-IDENTITY_CLIP;
- expression: sparse activations, each action active with probability ACTIVE_ACTIONS / E (about three at
  once), an active one uniform in [0, 1];
- translation: the mean face's landmark centroid at a depth uniform in DISTANCE_M, seen within CENTRE_JITTER of
  the image's size from the image's centre.

Splits: every split draws from seeds of its own (a seed drawn from the caller's generator, times the number of
splits, plus the split's index), so the train, val and test sets never share a face, and each is fixed by its
seed (the paper splits one sampled set at random; sampling each part apart is the same in distribution).
"""
from __future__ import annotations

import torch

from ...rotations import euler_to_matrix, matrix_to_axis_angle
from .camera import Intrinsics

SPLITS = ("train", "val", "test")
NECK_DEG = (30.0, 15.0, 10.0)
"""Yaw, pitch and roll limits of the neck (the head's turn on the shoulders), degrees."""
HEAD_DEG = (30.0, 20.0, 10.0)
"""Yaw, pitch and roll limits of the head on the neck, degrees."""
EYE_DEG = (10.0, 10.0, 0.0)
"""Yaw, pitch and roll limits of each eye, degrees."""
IDENTITY_CLIP = 3.0
ACTIVE_ACTIONS = 3.0
DISTANCE_M = (0.4, 1.0)
CENTRE_JITTER = 0.1


def split_generator(generator: torch.Generator, split: str) -> torch.Generator:
    """The split's own generator, seeded from the caller's (module docstring)."""
    if split not in SPLITS:
        raise ValueError(f"--split {split!r}: choose one of {', '.join(SPLITS)}")
    seed = int(torch.randint(0, 2**60, (1,), generator=generator)) * len(SPLITS) + SPLITS.index(split)
    return torch.Generator().manual_seed(seed)


def _turns(count: int, limits_deg: tuple[float, float, float], generator: torch.Generator) -> torch.Tensor:
    """(count, 3) axis-angle rotations: yaw, pitch and roll uniform within the limits, applied in that order."""
    angles = torch.deg2rad((torch.rand(count, 3, generator=generator) * 2 - 1) * torch.tensor(limits_deg))
    return matrix_to_axis_angle(euler_to_matrix(angles, "YXZ"))


def rotations(count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 4, 3) local rotations of the neck, the head and the eyes."""
    return torch.stack([_turns(count, NECK_DEG, generator), _turns(count, HEAD_DEG, generator),
                        _turns(count, EYE_DEG, generator), _turns(count, EYE_DEG, generator)], dim=1)


def identities(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(count, size, generator=generator).clamp(-IDENTITY_CLIP, IDENTITY_CLIP)


def expressions(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    active = torch.rand(count, size, generator=generator) < min(1.0, ACTIVE_ACTIONS / size)
    return torch.rand(count, size, generator=generator) * active


def centres(count: int, camera: Intrinsics, generator: torch.Generator) -> torch.Tensor:
    """(count, 3) camera-space points where the faces' landmark centroids go (module docstring)."""
    low, high = DISTANCE_M
    depth = low + torch.rand(count, generator=generator) * (high - low)
    size = torch.tensor([camera.width, camera.height], dtype=torch.float32)
    pixels = size / 2 + (torch.rand(count, 2, generator=generator) * 2 - 1) * CENTRE_JITTER * size
    return camera.unproject(pixels, depth)


def pixel_noise(count: int, landmarks: int, noise_px: float, generator: torch.Generator) -> torch.Tensor:
    """(count, landmarks, 2) the detector's noise, N(0, noise_px^2) per coordinate."""
    return torch.randn(count, landmarks, 2, generator=generator) * noise_px
