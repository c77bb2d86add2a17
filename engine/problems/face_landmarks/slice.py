"""face-landmarks' energy-slice axes: the head's rotations and the neck's turn (degrees), the face's depth and
sideways position (cm), the first identity coefficient and the jaw's opening (or the first expression)."""
from __future__ import annotations

from ...faces.model import FaceModel
from ..slice_axes import coordinate_axis, joint_rotation_axis
from ..spec import SliceAxis
from .problem import ROTATIONS, layout


def slice_axes(model: FaceModel) -> tuple[SliceAxis, ...]:
    parts = layout(model)
    names = tuple(model.expression_names)
    expression = "jawOpen" if "jawOpen" in names else names[0]
    head = ROTATIONS.start + 3
    return tuple(joint_rotation_axis("head", head, component) for component in range(3)) + (
        joint_rotation_axis("neck", ROTATIONS.start, 1),
        coordinate_axis("translation.z", "depth", 2, "cm", 0.01, 20.0),
        coordinate_axis("translation.x", "sideways", 0, "cm", 0.01, 5.0),
        coordinate_axis("identity0", "first identity coefficient", parts.identity_part.start, "sd", 1.0, 2.0),
        coordinate_axis(expression, f"expression {expression}", parts.expression.start + names.index(expression),
                        "", 1.0, 0.5),
    )
