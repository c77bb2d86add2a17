"""What the pose-from-2d problem is made of: its poses (by source, the benchmark's motion categories), the
ground truths x they give, and the simulated detector's nuisance draws.

x, flat (B, 52): yaw (radians, about +y), the root's (pelvis's) world position (metres, 3), then the 16 other
Human3.6M joints of the canonical (facing +z) root-centred pose, metres (48). The world pose is
root + yaw_matrix(yaw) pose.

Pose sources, all SMPL axis-angle poses of the default body (engine.problems.ik.data):
    train      the joint-limit sampler at the ik train split's seeds (3 * seed): the energy's pose bases are
               fitted, and its weights learned, on these alone
    val        the ik val split (sampler, seeds 3 * seed + 1): the trainer's held-out figures
    sampler    the ik test split (sampler, seeds 3 * seed + 2)
    library    the pose library, every pose (in the benchmark: one column per pose name)
    walk       the walk cycle's 40 frames
    cmu        frames of the CMU clips 01_01 and 01_03 when installed (assimp-testmodels)
Only `train` and `val` touch the seeds the fit and the training read; the test categories never do.

The simulated 2D detector (Tome et al. fit detections, not projections) finds each joint at an offset from the
skeleton's (DETECTOR_OFFSETS: keypoints are landmarks, not joint centres), and each joint's pixels get Gaussian noise
of noise_px times a factor of its joint (extremities and the pelvis, which no detector sees directly, worse) and of
its camera (the views differ in how well the detector does), and with probability outlier_rate an outlier:
an offset of 40 to 150 px in a random direction (a joint detected on another limb, the Huber term's target).
"""
from __future__ import annotations

import functools
import math

import torch

from engine.bodies.poses import sample_poses
from ..ik.data import cmu_clips, default_rest_joints, library_poses, split_poses, walk_cycle_poses
from .skeleton import NUM, canonical, joints_from_smpl

X_DIM = 4 + 3 * (NUM - 1)
ROOT = slice(1, 4)
POSE = slice(4, X_DIM)
CATEGORIES = ("sampler", "library", "walk", "cmu")
"""The test sources `--poses` picks from."""
ROOM = ((-0.5, 0.5), (0.85, 1.0), (-0.5, 0.5))
"""Where the root stands: x, y (height), z ranges in metres around the room's centre."""
JOINT_NOISE = (1.3, 1.2, 1.0, 1.1, 1.2, 1.0, 1.1, 1.3, 0.9, 0.8, 1.0, 0.9, 1.2, 1.6, 0.9, 1.2, 1.6)
"""The detector's noise factor per joint, Human3.6M order."""
CAMERA_NOISE = (1.0, 1.3, 1.7, 2.2)
"""The detector's noise factor per camera."""
DETECTOR_OFFSETS = torch.tensor([  # Human3.6M order, metres: +x the body's left, +y up, +z its front
    (0.0, 0.04, 0.0), (-0.03, 0.04, 0.0), (0.0, 0.0, 0.03), (0.0, -0.01, 0.02), (0.03, 0.04, 0.0),
    (0.0, 0.0, 0.03), (0.0, -0.01, 0.02), (0.0, 0.0, 0.02), (0.0, 0.0, 0.03), (0.0, 0.0, 0.08),
    (0.0, -0.03, 0.01), (0.0, 0.02, 0.0), (0.0, 0.0, -0.02), (0.0, 0.0, 0.0), (0.0, 0.02, 0.0),
    (0.0, 0.0, -0.02), (0.0, 0.0, 0.0)])
"""Where the detector finds each joint in the body's (root's) frame, from the skeleton's joint: a 2D keypoint is
a visible landmark, not a joint centre (the hips higher and wider, knees and thorax on the front surface, the
nose in front of the head's joint, the head top below the crown, the elbows' points behind). Constant, unknown to
the hand-set energy (whose joint offsets start at zero) and learned by the trained one."""
OUTLIER_PX = (40.0, 150.0)


def training_smpl_poses(count: int, seed: int = 0) -> torch.Tensor:
    """(count, 24, 3) the `train` source: sampler poses at the ik train split's seed (module docstring)."""
    return sample_poses(count, seed=3 * seed)


def category_poses(category: str, count: int | None = None, seed: int = 0) -> torch.Tensor:
    """(N, 24, 3) SMPL poses of a source (module docstring): count of them for sampler, val and train (required),
    and for cmu (spread over the clips, default 100); library and walk give all theirs (count: the first ones)."""
    if category in ("sampler", "val", "train"):
        if count is None:
            raise ValueError(f"poses {category!r}: say how many")
        if category == "train":
            return training_smpl_poses(count, seed)
        return split_poses("test" if category == "sampler" else "val", count, seed)
    if category == "library":
        return library_poses()[:count]
    if category == "walk":
        return walk_cycle_poses()[:count]
    if category == "cmu":
        if not cmu_clips():
            raise ValueError("--poses cmu needs the CMU clips 01_01 and 01_03 (apt-get install assimp-testmodels, or "
                             "a folder named by FEEDBACKLAB_CMU_DIR)")
        return split_poses("cmu", 100 if count is None else count)
    raise ValueError(f"--poses {category!r}: choose one of {', '.join(CATEGORIES)}")


@functools.lru_cache(maxsize=1)
def _rest() -> torch.Tensor:
    return default_rest_joints()


def canonical_poses(smpl_poses: torch.Tensor) -> torch.Tensor:
    """(N, 48) root-centred canonical 17-joint poses (pelvis left out) of SMPL poses (N, 24, 3), metres."""
    with torch.no_grad():
        joints = canonical(joints_from_smpl(smpl_poses.float(), _rest()))
    return joints[:, 1:].reshape(len(joints), -1)


def place(pose: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N, 52) ground truths x of canonical poses (N, 48): a yaw uniform on the circle and a root uniform in
    ROOM each."""
    count = len(pose)
    yaw = (torch.rand(count, 1, generator=generator) * 2 - 1) * math.pi
    low, high = (torch.tensor(bounds) for bounds in zip(*ROOM))
    root = low + torch.rand(count, 3, generator=generator) * (high - low)
    return torch.cat([yaw, root, pose.float()], dim=1)


def nuisance(count: int, cameras: int, noise_px: float, outlier_rate: float,
             generator: torch.Generator) -> torch.Tensor:
    """(count, cameras, 17, 2) what the simulated detector adds to the projected joints, pixels."""
    scale = noise_px * torch.tensor(CAMERA_NOISE[:cameras])[:, None] * torch.tensor(JOINT_NOISE)[None]
    noise = torch.randn(count, cameras, NUM, 2, generator=generator) * scale[..., None]
    outlier = torch.rand(count, cameras, NUM, generator=generator) < outlier_rate
    angle = torch.rand(count, cameras, NUM, generator=generator) * 2 * math.pi
    low, high = OUTLIER_PX
    length = low + torch.rand(count, cameras, NUM, generator=generator) * (high - low)
    offset = torch.stack([angle.cos(), angle.sin()], -1) * (length * outlier)[..., None]
    return noise + offset
