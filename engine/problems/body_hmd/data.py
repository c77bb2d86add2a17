"""Ground truths of the body-hmd problem: a body pose of the config's split, random hand poses, a random yaw and
place, the body standing on the floor.

Body: joints 1-21 and the root's rotation of a pose of the ik problem's splits (ik.data.drawn_poses; the learned
fitters train on the train split with its motion capture and are tested on the test split's sampler poses or the
CMU clips), turned about the vertical (+y) by a yaw uniform in +-max_yaw_deg. Place: the pelvis HORIZONTAL_RANGE
metres or less from the origin along x and z, the lowest vertex on the floor (y = 0).

Hands (hand_poses): each hand's four fingers curl together by a grip drawn per hand, each finger its own share of
it, within anatomical limits (CURL_LIMITS_DEG: knuckle, middle and end joint), the knuckles spread a little;
the thumb curls across the palm about THUMB_AXIS. The limits are the left hand's, in its joints' frames, which
SMPL+H aligns with the body's at rest (flat hand, palm down, fingers along +x); the right hand is the mirror
image (rotation vectors (x, y, z) -> (x, -y, -z)).
"""
from __future__ import annotations

import math

import torch

from ...bodies.skeleton import FINGERS

MAX_YAW_DEG = 180.0
HORIZONTAL_RANGE = 0.5
"""Metres: the pelvis's x and z are uniform within +-this."""
CURL_LIMITS_DEG = (90.0, 100.0, 70.0)
"""Largest flexion of a finger's knuckle, middle and end joint."""
THUMB_LIMITS_DEG = (40.0, 50.0, 70.0)
SPREAD_DEG = 12.0
"""A knuckle's sideways spread, uniform within +-this, less as the finger closes."""
FINGER_JITTER = 0.2
"""Standard deviation of each finger's curl about its hand's grip (grip and curl in [0, 1])."""
FLEXION_AXIS = (0.0, 0.0, -1.0)
"""The left fingers' flexion axis: turns +x (the fingers) towards -y (the palm)."""
THUMB_AXIS = (0.789, 0.434, -0.434)
"""The left thumb's flexion axis: normal to the thumb and to (0, -1, -1), so it curls down and across the palm."""
SPREAD_AXIS = (0.0, 1.0, 0.0)
MIRROR = (1.0, -1.0, -1.0)
"""A left-hand rotation vector times this is the right hand's mirror image."""


def hand_poses(count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 30, 3) axis-angle hand poses, left hand's 15 joints then the right's in MANO's order (module
    docstring)."""
    left = _one_hand(count, generator)
    right = _one_hand(count, generator) * torch.tensor(MIRROR)
    return torch.cat([left, right], dim=1)


def _one_hand(count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 15, 3) left-hand poses."""
    grip = torch.rand(count, 1, generator=generator)
    curl = (grip + FINGER_JITTER * torch.randn(count, len(FINGERS), generator=generator)).clamp(-0.05, 1.0)
    spread = (torch.rand(count, len(FINGERS), generator=generator) * 2 - 1) * (1 - curl.clamp(min=0))
    joints = []
    for f, finger in enumerate(FINGERS):
        thumb = finger == "thumb"
        limits = THUMB_LIMITS_DEG if thumb else CURL_LIMITS_DEG
        axis = torch.tensor(THUMB_AXIS if thumb else FLEXION_AXIS)
        for k, limit in enumerate(limits):
            rotation = math.radians(limit) * curl[:, f, None] * axis
            if k == 0 and not thumb:
                rotation = rotation + math.radians(SPREAD_DEG) * spread[:, f, None] * torch.tensor(SPREAD_AXIS)
            joints.append(rotation)
    return torch.stack(joints, dim=1)
