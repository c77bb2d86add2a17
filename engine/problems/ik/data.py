"""Poses for the IK problem: sources and the train / val / test / cmu splits.

Sources: the joint-limit sampler (engine.bodies.poses.sample_poses), the pose library, the walk cycle, and BVH
motion files retargeted to the default body's rest joints, among them the CMU clips 01_01 and 01_03 that
Debian's assimp-testmodels installs (directory overridable by FEEDBACKLAB_CMU_DIR).

Splits never share a source of poses:
    train  the pose library, then the walk cycle's frames, then sampler poses (sampler seed 3 * seed); the
           learned solvers' training adds frames of TRAIN_MOTIONS (training_poses)
    val    sampler poses only (sampler seed 3 * seed + 1)
    test   sampler poses only (sampler seed 3 * seed + 2), so it is the same on every machine
    cmu    an extra benchmark of real motion: frames evenly spread over the installed CMU clips (no seed);
           none of the other splits reads them.
All poses are SMPL axis-angle (N, 24, 3); the sampler leaves the root rotation at zero.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import torch

from engine.bodies.bvh import load_bvh, retarget_bvh
from engine.bodies.model import load_body
from engine.bodies.poses import motions, pose_library, sample_poses
from engine.bodies.skeleton import NUM_JOINTS

CMU_DIR = Path("/usr/share/assimp/models/BVH")
CMU_CLIPS = ("01_01.bvh", "01_03.bvh")
TRAIN_MOTIONS = ("Boxing_Toes.bvh",)
"""Motion capture the learned solvers train on: assimp-testmodels' other BVH clip, never a test clip."""
MOTION_SHARE = 0.2
"""The share of training poses drawn from TRAIN_MOTIONS' frames when they are installed."""
SPLITS = ("train", "val", "test", "cmu")
_SAMPLER_SPLITS = ("train", "val", "test")


@functools.lru_cache(maxsize=1)
def _rest_joints() -> torch.Tensor:
    with torch.no_grad():
        return load_body()().joints[0, :NUM_JOINTS].clone()


def default_rest_joints() -> torch.Tensor:
    """(24, 3) rest joints of the default body (assets/body/default_body.npz), metres; a fresh copy each call."""
    return _rest_joints().clone()


def rest_joints_for(betas: tuple[float, ...]) -> torch.Tensor:
    """(24, 3) rest joints of the default body with these shape coefficients (none: default_rest_joints)."""
    if not betas:
        return default_rest_joints()
    body = load_body()
    if len(betas) > body.num_betas:
        raise ValueError(f"--betas: the default body has {body.num_betas} shape coefficients, got {len(betas)}")
    with torch.no_grad():
        return body(betas=torch.tensor([betas], dtype=torch.float32)).joints[0, :NUM_JOINTS].clone()


def typed_poses(text: str, what: str, hint: str) -> torch.Tensor:
    """(N, 24, 3) poses a user typed: a library pose or motion name ('squat', 'walk-cycle': every frame) or a
    .npy/.npz/.bvh file (every frame, retargeted to the default body); ValueError naming `what` and the `hint`."""
    from engine.bodies.poses import load_poses

    try:
        return load_poses(text, NUM_JOINTS, default_rest_joints()).reshape(-1, NUM_JOINTS, 3)
    except ValueError as error:
        if text.lower().endswith((".npy", ".npz", ".bvh")):
            raise
        raise ValueError(f"{text!r} is not {what}: give {hint} ({error})") from None


def library_poses() -> torch.Tensor:
    """(N, 24, 3) the pose library's poses in its order."""
    return torch.stack(list(pose_library().values()))


def walk_cycle_poses() -> torch.Tensor:
    """(40, 24, 3) the walk cycle's frames."""
    return motions()["walk-cycle"].poses


def load_motion(path: str | Path) -> torch.Tensor:
    """(F, 24, 3) the poses of a BVH file retargeted to the default body's rest joints; raises ValueError
    (BvhError) with one line naming the file for a missing, truncated or frameless file or one whose joint
    names the retargeting does not know."""
    path = Path(path)
    return retarget_bvh(load_bvh(path), default_rest_joints(), label=repr(path.name)).poses


def _installed(names: tuple[str, ...]) -> list[Path]:
    folder = Path(os.environ.get("FEEDBACKLAB_CMU_DIR") or CMU_DIR)
    return [folder / name for name in names if (folder / name).is_file()]


def cmu_clips() -> list[Path]:
    """The installed CMU clips (01_01, 01_03) in $FEEDBACKLAB_CMU_DIR or /usr/share/assimp/models/BVH; empty
    when none is installed."""
    return _installed(CMU_CLIPS)


def training_motion_clips() -> list[Path]:
    """The installed clips of TRAIN_MOTIONS (same folder as the CMU clips); empty when none is installed."""
    return _installed(TRAIN_MOTIONS)


def training_poses(count: int, seed: int = 0) -> torch.Tensor:
    """(count, 24, 3) poses the learned solvers train on: MOTION_SHARE of them frames drawn from the installed
    TRAIN_MOTIONS (with replacement, seeded), the rest the train split."""
    clips = training_motion_clips()
    frames = torch.cat([load_motion(clip) for clip in clips]) if clips else torch.zeros(0, NUM_JOINTS, 3)
    from_motion = int(MOTION_SHARE * count) if len(frames) else 0
    generator = torch.Generator().manual_seed(seed)
    drawn = frames[torch.randint(len(frames), (from_motion,), generator=generator)] if from_motion else frames[:0]
    split = split_poses("train", count - from_motion, seed)
    return torch.cat([split, drawn.to(split)])


def select_frames(frames: str, num_frames: int) -> torch.Tensor:
    """Frame indices (long) of a clip with num_frames frames from '--frames' text: 'N' for N frames evenly spread
    over the clip (first and last included), or 'START:STOP' / 'START:STOP:STEP' (STOP exclusive, empty START is
    0 and empty STOP the clip's end). Raises ValueError naming --frames and the clip's length."""
    text = frames.strip()
    where = f"--frames {frames!r} (the clip has {num_frames} frames)"
    if re.fullmatch(r"\d+", text):
        count = int(text)
        if count == 0:
            raise ValueError(f"{where}: selects no frame; give a count of at least 1")
        if count > num_frames:
            raise ValueError(f"{where}: asks for more frames than the clip has")
        return torch.linspace(0, num_frames - 1, count, dtype=torch.float64).round().long()
    match = re.fullmatch(r"(\d*):(\d*)(?::(\d+))?", text)
    if match is None:
        raise ValueError(f"{where}: expected a count N or START:STOP[:STEP] with non-negative integers")
    start = int(match[1]) if match[1] else 0
    stop = int(match[2]) if match[2] else num_frames
    step = int(match[3]) if match[3] else 1
    if step == 0:
        raise ValueError(f"{where}: STEP must be at least 1")
    if stop > num_frames:
        raise ValueError(f"{where}: STOP {stop} is beyond the clip's last frame {num_frames - 1}")
    if start >= stop:
        raise ValueError(f"{where}: selects no frame (START must be below STOP)")
    return torch.arange(start, stop, step)


def cmu_poses(count: int) -> torch.Tensor:
    """(count, 24, 3) frames evenly spread over the installed CMU clips, the count shared out between them."""
    clips = cmu_clips()
    if not clips:
        raise ValueError(f"the 'cmu' split needs the CMU clips {', '.join(CMU_CLIPS)} in {CMU_DIR} (apt-get install "
                         "assimp-testmodels) or in a folder named by FEEDBACKLAB_CMU_DIR")
    poses = []
    for i, clip in enumerate(clips):
        share = count // len(clips) + (i < count % len(clips))
        if share:
            motion = load_motion(clip)
            poses.append(motion[select_frames(str(share), len(motion))])
    return torch.cat(poses) if poses else torch.zeros(0, NUM_JOINTS, 3)


def drawn_poses(split: str, count: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 24, 3) float poses of a split in random order, for the body-fitting problems' ground truths: the
    train split with the training motion capture mixed in (training_poses); drawn with replacement from a split
    with fewer poses (cmu). The split's seed comes from the generator too."""
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    poses = training_poses(count, seed) if split == "train" else split_poses(split, count, seed)
    index = torch.randint(len(poses), (count,), generator=generator) if len(poses) < count \
        else torch.randperm(len(poses), generator=generator)[:count]
    return poses[index].float()


def split_poses(split: str, count: int, seed: int = 0) -> torch.Tensor:
    """(count, 24, 3) axis-angle poses of a split (module docstring); seed >= 0 picks the sampler poses (the cmu
    split has none and ignores it)."""
    if split not in SPLITS:
        raise ValueError(f"unknown IK split {split!r}; use one of {', '.join(SPLITS)}")
    if count < 0 or seed < 0:
        raise ValueError(f"count and seed must be non-negative, got count {count}, seed {seed}")
    if split == "cmu":
        return cmu_poses(count)
    fixed = torch.cat([library_poses(), walk_cycle_poses()])[:count] if split == "train" \
        else torch.zeros(0, NUM_JOINTS, 3)
    sampled = sample_poses(count - len(fixed), seed=3 * seed + _SAMPLER_SPLITS.index(split))
    return torch.cat([fixed.to(sampled), sampled])
