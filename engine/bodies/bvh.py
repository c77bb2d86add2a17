"""BVH motion capture (e.g. the CMU database's BVH conversions) read and retargeted to SMPL's 24 joints.

A BVH file has a HIERARCHY of joints (OFFSET from the parent, CHANNELS in any rotation order) and a MOTION
table (one row of channel values per frame, angles in degrees). Rotation channels compose in the listed order
(Zrotation Xrotation Yrotation: R = Rz Rx Ry); a joint's position channels replace its offset.
BVH joints map to SMPL joints by name (CMU, Mixamo, the LeftCollar / LeftShoulder naming of assimp's
Boxing_Toes.bvh and common variants, JOINT_CANDIDATES). Whole frames beyond the MOTION's "Frames:" count are
ignored (Boxing_Toes.bvh holds one more than it declares); fewer values, or a partial extra frame, are refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.rotations import euler_to_matrix

from .retarget import retarget
from .skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS


class BvhError(ValueError):
    """A BVH file that cannot be used; the message names the file and the problem."""


_SIDED = {  # SMPL joint (without side) -> BVH names (without side), first present wins, each used once
    "hip": ("UpLeg", "Hip", "Thigh", "UpperLeg"),
    "knee": ("Leg", "Knee", "Shin", "LowerLeg"),
    "ankle": ("Foot", "Ankle"),
    "foot": ("ToeBase", "Toe", "Toes"),
    # The upper arm is resolved before the collar: Shoulder is the upper arm unless an Arm joint exists (then it
    # is the clavicle, as in CMU and Mixamo files); a Collar or Clavicle joint is always the collar.
    "shoulder": ("Arm", "UpArm", "UpperArm", "Shoulder"),
    "collar": ("Collar", "Clavicle", "Shoulder"),
    "elbow": ("ForeArm", "LowArm", "LowerArm", "Elbow"),
    "wrist": ("Hand", "Wrist"),
    "hand": ("FingerBase", "HandIndex1", "HandMiddle1", "Fingers"),
}
JOINT_CANDIDATES: dict[str, tuple[str, ...]] = {  # resolved in this order
    "pelvis": ("Hips", "Hip", "Pelvis", "Root"),
    "spine1": ("LowerBack", "Spine", "Abdomen", "Ab"),
    "spine2": ("Spine", "Spine1", "Chest"),
    "spine3": ("Spine1", "Spine2", "Chest", "UpperChest"),
    "neck": ("Neck", "Neck1"),
    "head": ("Head",),
    **{f"{side}_{joint}": tuple(f"{prefix}{name}" for prefix in prefixes for name in names)
       for side, prefixes in (("left", ("Left", "L", "l")), ("right", ("Right", "R", "r")))
       for joint, names in _SIDED.items()},
}


@dataclass(frozen=True)
class Bvh:
    names: list[str]
    parents: list[int]
    offsets: torch.Tensor
    """(J, 3) rest offsets from the parent (the root's: its rest position)."""
    channels: list[list[str]]
    frame_time: float
    motion: torch.Tensor
    """(F, C) channel values, C the total channel count, in joint order."""

    @property
    def num_frames(self) -> int:
        return self.motion.shape[0]

    def _columns(self) -> list[tuple[int, list[str]]]:
        start, columns = 0, []
        for channels in self.channels:
            columns.append((start, channels))
            start += len(channels)
        return columns

    def world(self) -> tuple[torch.Tensor, torch.Tensor]:
        """World rotations (F, J, 3, 3) and positions (F, J, 3) of every joint in every frame."""
        frames = self.num_frames
        rotations, positions = [], []
        for j, (start, channels) in enumerate(self._columns()):
            values = self.motion[:, start : start + len(channels)]
            order = "".join(c[0].upper() for c in channels if c.lower().endswith("rotation"))
            angles = torch.stack([values[:, i] for i, c in enumerate(channels) if c.lower().endswith("rotation")], -1) \
                if order else torch.zeros(frames, 0, dtype=self.motion.dtype)
            local = euler_to_matrix(angles * (math.pi / 180.0), order) if len(order) == 3 else \
                torch.eye(3, dtype=self.motion.dtype).expand(frames, 3, 3)
            offset = self.offsets[j].expand(frames, 3).clone()
            for i, c in enumerate(channels):
                if c.lower().endswith("position"):
                    offset[:, "xyz".index(c[0].lower())] = values[:, i]
            parent = self.parents[j]
            if parent < 0:
                rotations.append(local)
                positions.append(offset)
            else:
                rotations.append(rotations[parent] @ local)
                positions.append(positions[parent] + (rotations[parent] @ offset[..., None])[..., 0])
        return torch.stack(rotations, 1), torch.stack(positions, 1)

    def rest_positions(self) -> torch.Tensor:
        """(J, 3) joint positions with every channel at zero except the offsets."""
        positions = []
        for j, parent in enumerate(self.parents):
            positions.append(self.offsets[j] if parent < 0 else positions[parent] + self.offsets[j])
        return torch.stack(positions)


def _tokens(text: str) -> list[str]:
    return text.replace("{", " { ").replace("}", " } ").split()


def parse_bvh(text: str, label: str = "BVH") -> Bvh:
    """Parses BVH text; raises BvhError with a one-line message naming `label`."""
    tokens = _tokens(text)
    position = 0

    def take(what: str) -> str:
        nonlocal position
        if position >= len(tokens):
            raise BvhError(f"{label}: file ends early, expected {what}")
        position += 1
        return tokens[position - 1]

    def number(what: str) -> float:
        token = take(what)
        try:
            return float(token)
        except ValueError:
            raise BvhError(f"{label}: expected a number for {what}, got {token!r}") from None

    if take("HIERARCHY").upper() != "HIERARCHY":
        raise BvhError(f"{label}: not a BVH file (it must start with HIERARCHY)")
    names, parents, offsets, channels = [], [], [], []
    stack: list[int] = []
    keyword = take("ROOT")
    if keyword.upper() != "ROOT":
        raise BvhError(f"{label}: expected ROOT after HIERARCHY, got {keyword!r}")
    while True:
        if keyword.upper() in ("ROOT", "JOINT"):
            names.append(take("a joint name"))
            parents.append(stack[-1] if stack else -1)
            joint = len(names) - 1
            if take("{") != "{":
                raise BvhError(f"{label}: expected '{{' after joint {names[-1]!r}")
            if take("OFFSET").upper() != "OFFSET":
                raise BvhError(f"{label}: joint {names[-1]!r} has no OFFSET")
            offsets.append([number(f"the OFFSET of {names[-1]!r}") for _ in range(3)])
            if take("CHANNELS").upper() != "CHANNELS":
                raise BvhError(f"{label}: joint {names[-1]!r} has no CHANNELS")
            count = int(number(f"the channel count of {names[-1]!r}"))
            listed = [take(f"channel names of {names[-1]!r}") for _ in range(count)]
            for name in listed:
                if name.lower() not in {f"{a}{kind}" for a in "xyz" for kind in ("position", "rotation")}:
                    raise BvhError(f"{label}: joint {names[-1]!r} declares {count} channels but {name!r} is not a "
                                   "channel name (Xposition ... Zrotation); is the channel count wrong?")
            if sum(c.lower().endswith("rotation") for c in listed) not in (0, 3):
                raise BvhError(f"{label}: joint {names[-1]!r} needs 0 or 3 rotation channels, got {listed}")
            channels.append(listed)
            stack.append(joint)
        elif keyword.upper() == "END":
            take("Site")
            if take("{") != "{" or take("OFFSET").upper() != "OFFSET":
                raise BvhError(f"{label}: malformed End Site")
            for _ in range(3):
                number("an End Site offset")
            if take("}") != "}":
                raise BvhError(f"{label}: expected '}}' after an End Site")
        elif keyword == "}":
            if not stack:
                raise BvhError(f"{label}: unbalanced '}}' in HIERARCHY")
            stack.pop()
            if not stack:
                break
        else:
            raise BvhError(f"{label}: unexpected {keyword!r} in HIERARCHY")
        keyword = take("JOINT, End Site or '}'")

    if take("MOTION").upper() != "MOTION":
        raise BvhError(f"{label}: expected MOTION after the HIERARCHY")
    if take("Frames:") != "Frames:":
        raise BvhError(f"{label}: expected 'Frames:' in MOTION")
    frames = int(number("the frame count"))
    if (take("Frame"), take("Time:")) != ("Frame", "Time:"):
        raise BvhError(f"{label}: expected 'Frame Time:' in MOTION")
    frame_time = number("the frame time")
    if frames < 1 or frame_time <= 0:
        raise BvhError(f"{label}: needs at least one frame and a positive frame time")
    total = sum(len(c) for c in channels)
    values = tokens[position:]
    extra = len(values) - frames * total  # whole frames beyond the declared count are ignored
    if extra < 0 or (extra and (not total or extra % total)):
        raise BvhError(f"{label}: MOTION has {len(values)} values but {frames} frames x {total} channels need "
                       f"{frames * total} (truncated file or wrong channel counts)")
    try:
        motion = torch.tensor([float(v) for v in values[: frames * total]], dtype=torch.float64)
    except ValueError:
        raise BvhError(f"{label}: MOTION holds a value that is not a number") from None
    motion = motion.reshape(frames, total)
    return Bvh(names, parents, torch.tensor(offsets, dtype=torch.float64), channels, frame_time, motion)


def load_bvh(path: str | Path) -> Bvh:
    path = Path(path)
    if not path.is_file():
        raise BvhError(f"BVH file {str(path)!r} does not exist; check the path")
    return parse_bvh(path.read_text(errors="replace"), repr(path.name))


def joint_map(names: list[str]) -> list[int]:
    """For each SMPL joint, the index of its BVH joint by name (namespaces like 'mixamorig:' ignored), or -1."""
    plain = {name.split(":")[-1].lower(): i for i, name in enumerate(names)}
    found: dict[str, int] = {}
    for joint, candidates in JOINT_CANDIDATES.items():
        found[joint] = next((plain[c.lower()] for c in candidates
                             if c.lower() in plain and plain[c.lower()] not in found.values()), -1)
    return [found[joint] for joint in JOINT_NAMES]


@dataclass(frozen=True)
class BodyMotion:
    poses: torch.Tensor
    """(F, 24, 3) SMPL axis-angle poses."""
    transl: torch.Tensor
    """(F, 3) root translation in metres, relative to the first frame's root position."""
    frame_time: float


def retarget_bvh(bvh: Bvh, target_rest: torch.Tensor, scale: float | None = None, label: str = "BVH") -> BodyMotion:
    """SMPL poses from a BVH whose rest pose faces +z with +y up (CMU's convention). target_rest (24, 3): the
    body's rest joints. scale (BVH units to metres) defaults to the ratio of the two skeletons' thigh lengths."""
    mapping = joint_map(bvh.names)
    missing = [JOINT_NAMES[j] for j in (0, 1, 2, 4, 5) if mapping[j] < 0]
    if missing:
        raise BvhError(f"{label}: found no BVH joint for SMPL's {', '.join(missing)} (names such as Hips, "
                       "LeftUpLeg, LeftLeg are expected)")
    rotations, positions = bvh.world()
    rest = bvh.rest_positions()
    target = target_rest.double()
    if scale is None:
        legs = [(rest[mapping[a]] - rest[mapping[b]]).norm() for a, b in ((1, 4), (2, 5))]
        scale = float((target[4] - target[1]).norm() + (target[5] - target[2]).norm()) / max(float(sum(legs)), 1e-9)
    deltas, source_rest = [], []
    for j in range(NUM_JOINTS):  # unmapped joints follow their parent and sit at the target's offset from it
        if mapping[j] >= 0:
            deltas.append(rotations[:, mapping[j]])
            source_rest.append(rest[mapping[j]])
        else:
            deltas.append(deltas[PARENTS[j]])
            source_rest.append(source_rest[PARENTS[j]] + (target[j] - target[PARENTS[j]]) / scale)
    poses = retarget(torch.stack(deltas, 1), torch.stack(source_rest), target)
    root = positions[:, mapping[0]]
    return BodyMotion(poses.float(), ((root - root[:1]) * scale).float(), bvh.frame_time)
