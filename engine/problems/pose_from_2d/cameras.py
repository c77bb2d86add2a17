"""The capture rig: four calibrated cameras around the subject (the first alone for the monocular problem), and
their weak-perspective projection.

Human3.6M's calibration is not at hand, so the rig is a stand-in of the same shape: 1000 x 1000 pixel cameras of
focal length 1150 px at the room's four corners, 4.2 to 5.6 m from its centre and 1.5 to 1.8 m high, all looking
at a point 0.9 m above the floor's centre. World frame: metres, +y up. Camera frames follow engine.camera
(OpenGL: a camera looks down its -z; pixels: u right, v down).

Weak perspective (Tome et al.'s scaled orthographic model, with the calibration known): a camera sees the body as
if every joint lay at its root's depth Z, u = centre + f (x, -y) / Z in camera coordinates; the root itself
projects as by perspective. The body's depth is small beside the cameras' distance (under a metre at 4-6 m), but
not negligible: perspective would move a hand half a metre nearer the camera by some 10 % of its offset from the
root, more than the detector's noise; simulation and energy both use weak perspective.
"""
from __future__ import annotations

import math

import torch

from engine.camera import Camera

IMAGE = Camera(height=1000, width=1000, fov_y=2.0 * math.atan(500.0 / 1150.0))
TARGET = (0.0, 0.9, 0.0)
_PLACES = ((45.0, 4.6, 1.6), (135.0, 5.2, 1.5), (225.0, 5.6, 1.8), (315.0, 4.2, 1.7))
"""(azimuth from +z towards +x in degrees, distance from the room's centre on the floor, height), camera by camera."""
MAX_CAMERAS = len(_PLACES)
MIN_DEPTH = 0.1
"""The weak-perspective depth is held at least this (metres) so that a wild estimate stays finite."""


def _look_at(eye: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(3, 3) world-to-camera rotation of a camera at eye looking at target, +y up (rows: right, up, back)."""
    back = torch.nn.functional.normalize(eye - target, dim=0)
    right = torch.nn.functional.normalize(torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0], dtype=eye.dtype), back),
                                          dim=0)
    return torch.stack([right, torch.linalg.cross(back, right), back])


def rig(cameras: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `cameras` cameras: world-to-camera rotations (C, 3, 3) and centres (C, 3), float64."""
    if not 1 <= cameras <= MAX_CAMERAS:
        raise ValueError(f"the rig has 1 to {MAX_CAMERAS} cameras, not {cameras}")
    rotations, centres = [], []
    target = torch.tensor(TARGET, dtype=torch.float64)
    for azimuth, distance, height in _PLACES[:cameras]:
        angle = math.radians(azimuth)
        eye = torch.tensor([distance * math.sin(angle), height, distance * math.cos(angle)], dtype=torch.float64)
        rotations.append(_look_at(eye, target))
        centres.append(eye)
    return torch.stack(rotations), torch.stack(centres)


def to_camera(points: torch.Tensor, rotations: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(B, C, N, 3) camera-space coordinates of world points (B, N, 3) in every camera."""
    relative = points[:, None] - centres.to(points)[None, :, None]
    return relative @ rotations.to(points).transpose(-1, -2)[None]


def weak_perspective(points: torch.Tensor, root: torch.Tensor, rotations: torch.Tensor,
                     centres: torch.Tensor) -> torch.Tensor:
    """(B, C, N, 2) pixels of world points (B, N, 3) under weak perspective at the depth of root (B, 3)."""
    camera_points = to_camera(points, rotations, centres)
    depth = (-to_camera(root[:, None], rotations, centres)[..., 2]).clamp(min=MIN_DEPTH)  # (B, C, 1)
    scale = IMAGE.focal / depth
    u = 0.5 * IMAGE.width + scale * camera_points[..., 0]
    v = 0.5 * IMAGE.height - scale * camera_points[..., 1]
    return torch.stack([u, v], -1)
