"""pose-from-2d's energy-slice axes: the yaw (degrees), the root's position and a few joints' (centimetres),
each one coordinate of x moved alone."""
from __future__ import annotations

import math

from ..slice_axes import coordinate_axis
from .problem import PARAMETER_NAMES

SLICED = (("yaw", "yaw", "deg", 60.0), ("root.x", "root x", "cm", 30.0), ("root.y", "root height", "cm", 30.0),
          ("root.z", "root z", "cm", 30.0), ("left_wrist.z", "left wrist forward", "cm", 30.0),
          ("right_wrist.z", "right wrist forward", "cm", 30.0), ("left_knee.z", "left knee forward", "cm", 30.0),
          ("right_ankle.z", "right ankle forward", "cm", 30.0), ("head.z", "head top forward", "cm", 20.0))
_UNIT = {"deg": math.pi / 180.0, "cm": 0.01}
SLICE_AXES = tuple(coordinate_axis(key, label, PARAMETER_NAMES.index(key), unit, _UNIT[unit], span)
                   for key, label, unit, span in SLICED)
