"""Human3.6M's 17-joint skeleton, made from SMPL's 24 joints of the default body by forward kinematics.

Joints in Human3.6M's order: pelvis, right hip, knee, ankle, left hip, knee, ankle, spine, thorax, neck/nose, head
(top), left shoulder, elbow, wrist, right shoulder, elbow, wrist. Each is an SMPL joint (spine: spine2, mid-torso
as Human3.6M's; thorax: SMPL's neck joint at the base of the neck; neck/nose: SMPL's head joint) but the head top,
which SMPL lacks: HEAD_TOP above the head joint in the head's frame, the default body's highest vertex above its
head joint in the rest pose.

Poses are root-centred (pelvis at the origin) in SMPL's body frame (+y up, +z forward, +x the body's left).
`canonical` turns a pose about the vertical so that it faces +z (its hips along +x): the frame of the energy's
pose bases; a world pose is a canonical one turned by a yaw and moved to its root's position.
"""
from __future__ import annotations

import torch

from engine.bodies.skeleton import JOINT_INDEX, NUM_JOINTS
from ..ik import kinematics

JOINT_NAMES = ("pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine",
               "thorax", "neck", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
               "right_elbow", "right_wrist")
NUM = len(JOINT_NAMES)
PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
"""Human3.6M's bones: each joint's parent (for drawing and for bone lengths)."""
HEAD = JOINT_NAMES.index("head")
SMPL_JOINTS = tuple(JOINT_INDEX[name] for name in (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine2", "neck",
    "head")) + tuple(JOINT_INDEX[name] for name in (
        "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist"))
"""SMPL's joint of every Human3.6M joint but the head top, in JOINT_NAMES' order without it."""
HEAD_TOP = (0.0, 0.155, 0.0)
"""The head top's offset from SMPL's head joint in the head's frame, metres (the default body's crown)."""
POSE_DIM = 3 * (NUM - 1)
"""Coordinates of a root-centred pose: the 16 joints but the pelvis, x, y, z each."""


def joints_from_smpl(poses: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """(B, 17, 3) the Human3.6M joints, pelvis at the origin, of SMPL axis-angle poses (B, 24, 3) on a skeleton
    with these rest joints (24, 3)."""
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"poses must have shape (B, {NUM_JOINTS}, 3), got {tuple(poses.shape)}")
    rotations = kinematics.rotations_from_x(poses.reshape(len(poses), -1))
    positions, globals_ = kinematics.chain(rotations, rest_joints.to(rotations))
    head_top = positions[:, JOINT_INDEX["head"]] + globals_[:, JOINT_INDEX["head"]] @ positions.new_tensor(HEAD_TOP)
    joints = positions[:, list(SMPL_JOINTS)]
    return torch.cat([joints[:, :HEAD], head_top[:, None], joints[:, HEAD:]], dim=1)


def facing_yaw(joints: torch.Tensor) -> torch.Tensor:
    """(B,) the yaw (about +y, radians) that turns the canonical facing into these poses' (B, 17, 3): the angle
    of the hips' line (right hip to left hip) from +x in the ground plane."""
    across = joints[:, JOINT_NAMES.index("left_hip")] - joints[:, JOINT_NAMES.index("right_hip")]
    return torch.atan2(-across[:, 2], across[:, 0])


def yaw_matrix(yaw: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotations about +y by yaw (...,) radians: +z turns towards +x."""
    cos, sin = yaw.cos(), yaw.sin()
    zero, one = torch.zeros_like(yaw), torch.ones_like(yaw)
    return torch.stack([torch.stack([cos, zero, sin], -1), torch.stack([zero, one, zero], -1),
                        torch.stack([-sin, zero, cos], -1)], -2)


def canonical(joints: torch.Tensor) -> torch.Tensor:
    """(B, 17, 3) the poses turned about the vertical to face +z (their hips' line along +x)."""
    return joints @ yaw_matrix(facing_yaw(joints))
