"""ik's energy-slice axes: one joint's local rotation about its own x, y or z axis (degrees), composed on the
estimate's rotation through the problem's retraction."""
from __future__ import annotations

from ...bodies.skeleton import JOINT_INDEX
from ..slice_axes import joint_rotation_axis

SLICED_JOINTS = ("left_hip", "left_knee", "right_hip", "right_knee", "left_shoulder", "left_elbow",
                 "right_shoulder", "right_elbow", "spine2", "neck")
SLICE_AXES = tuple(joint_rotation_axis(joint, 3 * JOINT_INDEX[joint], component)
                   for joint in SLICED_JOINTS for component in range(3))
