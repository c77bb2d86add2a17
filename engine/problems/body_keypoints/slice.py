"""body-keypoints' energy-slice axes: a few joints' local rotations (degrees), the first shape coefficient and
the camera's scale and position."""
from __future__ import annotations

from ...bodies.skeleton import JOINT_INDEX
from ..slice_axes import coordinate_axis, joint_rotation_axis
from .problem import PARAMETER_NAMES

SLICED_JOINTS = ("pelvis", "left_hip", "left_knee", "right_shoulder", "right_elbow", "spine2")
SLICE_AXES = tuple(joint_rotation_axis(joint, 3 * JOINT_INDEX[joint], component)
                   for joint in SLICED_JOINTS for component in range(3)) + (
    coordinate_axis("beta0", "first shape coefficient", PARAMETER_NAMES.index("beta0"), "sd", 1.0, 2.0),
    coordinate_axis("camera.scale", "camera scale", PARAMETER_NAMES.index("camera.scale"), "%", 0.01, 20.0),
    coordinate_axis("camera.tx", "camera x", PARAMETER_NAMES.index("camera.tx"), "crop", 1.0, 0.2),
)
