"""pose6d's 3D view: the mesh shaded at the estimate, with the ground truth (when known) laid over it translucent
and outlined, the way the paper's Fig. 4 and supplementary Fig. 3 show poses; seen from the problem's camera or
from a viewpoint orbiting the object's place. Rendered by pyrender (engine.render.pyrender_shaded), so it is
drawn in the engine's process, never in the app's."""
from __future__ import annotations

import math

import numpy as np
import torch

from ...camera import Camera
from ...render.forward import shared_shaded_renderer
from ...render.pyrender_shaded import Lighting
from ..spec import RenderedPanel, Viewpoint
from .pictures import ESTIMATE_COLOUR
from .problem import PARAMETER_NAMES, Pose6DConfig, Pose6DProblem

VIEW_SIZE = 128
"""Pixels of a side, whatever the silhouettes' size (recordings resize the picture to the other panels'): the
app's columns show it at this size, and pyrender draws it anti-aliased in about 6 ms here (15 ms at 256)."""
LIGHTING = Lighting(intensity=3.0, ambient=0.25, albedo=0.85, shadows=False)
"""Grey and matte, tinted afterwards. No shadows: the light comes from beside the viewer, where they hardly show."""
LIGHT_OFFSET = (-2.0, 2.0, -0.5)
"""Where the light is in the viewing camera's frame, whatever the orbit: above the viewer's left, a little ahead
(from the side enough that the faces of a box differ in shade)."""
BACKGROUND = np.array((22, 22, 26), dtype=np.float32)
TRUTH_COLOUR = np.array((225, 228, 240), dtype=np.float32)
TRUTH_OPACITY = 0.4
OUTLINE_WIDTH = 1
"""Pixels of the ground truth's outline, drawn opaque so that it reads where the estimate covers it."""


def view_camera(config: Pose6DConfig) -> Camera:
    """The problem's camera (its field of view) at the view's own size."""
    return Camera.square(VIEW_SIZE, fov_y=math.radians(config.fov_y_deg))


def _pose(values: np.ndarray, name: str) -> torch.Tensor:
    """A (1, 7) pose from an x item; ValueError (one line) when it is not 7 finite numbers."""
    array = np.asarray(values, dtype=np.float32)
    if array.shape != (len(PARAMETER_NAMES),):
        raise ValueError(f"pose6d's 3D view needs the {name} as {len(PARAMETER_NAMES)} values "
                         f"({','.join(PARAMETER_NAMES)}), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"pose6d's 3D view: the {name} contains NaN or infinite values")
    return torch.from_numpy(array)[None]


def render_view(problem: Pose6DProblem, x: np.ndarray, truth: np.ndarray | None, viewpoint: Viewpoint) -> np.ndarray:
    """(VIEW_SIZE, VIEW_SIZE, 3) uint8: the mesh of a batch of one at the estimate x (7,), shaded in the estimate's
    colour, under the ground truth (7,) translucent and outlined when it is given, seen from `viewpoint`
    (orbiting the object's place at zero offset, at the camera's distance)."""
    if problem.batch_size != 1:
        raise ValueError(f"pose6d's 3D view draws one problem, not a batch of {problem.batch_size}")
    poses = [_pose(x, "estimate")] + ([] if truth is None else [_pose(truth, "ground truth")])
    object_to_camera = torch.cat([problem.object_to_camera(pose) for pose in poses]).double()
    distance = problem.config.distance
    eye = viewpoint.camera_pose(np.array([0.0, 0.0, -distance]), distance)
    object_to_eye = torch.from_numpy(np.linalg.inv(eye)) @ object_to_camera
    mesh = problem.meshes[0]
    lights = torch.tensor([LIGHT_OFFSET] * len(poses))
    targets = torch.tensor([[0.0, 0.0, -distance]] * len(poses))  # the orbit's centre, in the eye's frame
    colour, depth = shared_shaded_renderer(view_camera(problem.config)).render(
        mesh.vertices, mesh.faces, object_to_eye, lights, targets, 1.0, LIGHTING)
    shade, covered = colour[..., :1].numpy(), depth.numpy() > 0  # grey: one channel is the shading
    picture = np.where(covered[0, ..., None], shade[0] * ESTIMATE_COLOUR, BACKGROUND)
    if truth is not None:
        over = covered[1]
        picture[over] = (1 - TRUTH_OPACITY) * picture[over] + TRUTH_OPACITY * shade[1][over] * TRUTH_COLOUR
        picture[_outline(over)] = TRUTH_COLOUR
    return np.clip(picture, 0, 255).round().astype(np.uint8)


def _outline(mask: np.ndarray) -> np.ndarray:
    """The pixels of a mask within OUTLINE_WIDTH of its border."""
    inner = mask
    for _ in range(OUTLINE_WIDTH):
        padded = np.pad(inner, 1)
        inner = inner & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


RENDERED_PANELS = (RenderedPanel("view3d", "3D (truth: white)", render_view),)
"""The pictures pose6d renders itself: the mesh at the estimate over the ground truth."""
