"""ik's energy-slice axes: one joint's local rotation about its own x, y or z axis (degrees), composed on the
estimate's rotation through the problem's retraction."""
from __future__ import annotations

import numpy as np
import torch

from ...bodies.skeleton import JOINT_INDEX
from ...rotations import quaternion_conjugate, quaternion_multiply
from ..spec import SliceAxis
from . import kinematics

SLICED_JOINTS = ("left_hip", "left_knee", "right_hip", "right_knee", "left_shoulder", "left_elbow",
                 "right_shoulder", "right_elbow", "spine2", "neck")


def _axis(joint: str, component: int) -> SliceAxis:
    column = 3 * JOINT_INDEX[joint] + component

    def move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        dx = torch.zeros_like(x)
        dx[:, column] = torch.deg2rad(offsets)
        return kinematics.retract(x, dx)

    def coordinate(path: np.ndarray, center: np.ndarray) -> np.ndarray:
        joint_columns = slice(column - component, column - component + 3)
        start = kinematics.exp_quaternion(torch.as_tensor(center[joint_columns])).expand(len(path), 4)
        end = kinematics.exp_quaternion(torch.as_tensor(path[:, joint_columns]))
        relative = quaternion_multiply(quaternion_conjugate(start), end)
        return torch.rad2deg(kinematics.log_quaternion(relative))[:, component].numpy()

    return SliceAxis(f"{joint}.r{'xyz'[component]}", f"{joint.replace('_', ' ')} about its {'xyz'[component]}",
                     "deg", 45.0, move, coordinate)


SLICE_AXES = tuple(_axis(joint, component) for joint in SLICED_JOINTS for component in range(3))
