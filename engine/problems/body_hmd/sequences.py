"""Motion sequences for body-hmd's temporal baseline: windows of consecutive frames of the CMU clips (ik's 'cmu'
split, real motion none of the learned fitters trained on), at SEQUENCE_HZ.

Each window starts at a random frame of a random clip, is turned by a random yaw and placed at a random spot like
the problem's ground truths, and holds one random hand pose throughout. The clips' root translation is not carried
over: every frame stands on the floor with its pelvis over the window's spot (the body walks in place)."""
from __future__ import annotations

from dataclasses import replace

import torch

from ..ik.data import cmu_clips, load_motion
from . import data
from .problem import BodyHmdProblem

CLIP_HZ = 120
SEQUENCE_HZ = 30


def sequence_batch(problem: BodyHmdProblem, window: int, generator: torch.Generator
                   ) -> tuple[BodyHmdProblem, torch.Tensor]:
    """The problem with one body shape per window (its first frame's) and (B, 159) ground truths of its batch B:
    windows of `window` consecutive frames (B a multiple of it). ValueError (one line) when the CMU clips are not
    installed."""
    if problem.batch_size % window:
        raise ValueError(f"body-hmd sequences: a batch of {problem.batch_size} frames does not hold whole windows of "
                         f"{window}")
    clips = cmu_clips()
    if not clips:
        raise ValueError("body-hmd sequences need the CMU clips of ik's 'cmu' split (apt-get install "
                         "assimp-testmodels, or FEEDBACKLAB_CMU_DIR)")
    motions = [load_motion(clip) for clip in clips]
    windows, stride = problem.batch_size // window, CLIP_HZ // SEQUENCE_HZ
    poses = []
    for _ in range(windows):
        motion = motions[int(torch.randint(len(motions), (1,), generator=generator))]
        start = int(torch.randint(len(motion) - stride * (window - 1), (1,), generator=generator))
        poses.append(motion[start:start + stride * window:stride])
    yaw = torch.deg2rad((torch.rand(windows, generator=generator) * 2 - 1) * problem.config.max_yaw_deg)
    hands = data.hand_poses(windows, generator)
    place = (torch.rand(windows, 2, generator=generator) * 2 - 1) * data.HORIZONTAL_RANGE
    problem = replace(problem, betas=problem.betas[::window].repeat_interleave(window, 0))
    truths = problem.standing(torch.cat(poses).float(), *(each.repeat_interleave(window, 0)
                                                          for each in (yaw, hands, place)))
    return problem, truths
