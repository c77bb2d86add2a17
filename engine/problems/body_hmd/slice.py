"""body-hmd's energy-slice axes: the local rotations of the joints the device sees or moves most (degrees), a
finger's knuckle, and the root's height and sideways place."""
from __future__ import annotations

from ...bodies.skeleton import SMPLH_JOINT_INDEX
from ..slice_axes import coordinate_axis, joint_rotation_axis
from .problem import PARAMETER_NAMES

SLICED_JOINTS = ("pelvis", "spine3", "neck", "head", "left_shoulder", "left_elbow", "right_wrist", "left_index1")
SLICE_AXES = tuple(joint_rotation_axis(joint, 3 * SMPLH_JOINT_INDEX[joint], component)
                   for joint in SLICED_JOINTS for component in range(3)) + (
    coordinate_axis("translation.y", "root height", PARAMETER_NAMES.index("translation.y"), "cm", 0.01, 20.0),
    coordinate_axis("translation.x", "root sideways", PARAMETER_NAMES.index("translation.x"), "cm", 0.01, 20.0),
)
