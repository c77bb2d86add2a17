"""body-keypoints' pictures: the keypoints (detected and projected) and the fitted body from the front and the
side, coloured by its distance to the truth (engine.bodies.pictures)."""
from __future__ import annotations

import functools

import numpy as np
import torch

from ...bodies.skeleton import PARENTS
from ..spec import Viewpoint
from .problem import KEYPOINT_PARENTS, X_DIM, BodyKeypointsConfig, BodyKeypointsProblem, make_problem

SIZE = (200, 360)
"""(height, width) of each panel."""


@functools.lru_cache(maxsize=1)
def _problem() -> BodyKeypointsProblem:
    return make_problem(BodyKeypointsConfig(), 1)


def _x(item: np.ndarray) -> torch.Tensor:
    """(1, 85) of an x item; ValueError (one line) unless it is 85 finite numbers."""
    array = np.asarray(item, dtype=np.float32)
    if array.shape != (X_DIM,) or not np.isfinite(array).all():
        raise ValueError(f"body-keypoints' pictures need an estimate of {X_DIM} finite numbers, got shape {array.shape}")
    return torch.from_numpy(array)[None]


def keypoints_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                    truth: np.ndarray | None) -> np.ndarray:
    from ...bodies.pictures import keypoints_view

    with torch.no_grad():
        projected = _problem().projection(_x(x))[0].numpy()
    return keypoints_view(observation, projected, KEYPOINT_PARENTS, size=SIZE)


def render_body(problem: BodyKeypointsProblem, x: np.ndarray, truth: np.ndarray | None,
                viewpoint: Viewpoint) -> np.ndarray:
    """The fitted body of a batch of one from the front (the keypoints' camera at the default viewpoint) and the
    side, coloured by its distance to the truth when it is given; the viewpoint turns the body about its pelvis.
    pyrender: drawn in the engine's process (a RenderedPanel)."""
    from ...bodies.pictures import fitted_body_views

    if problem.batch_size != 1:
        raise ValueError(f"body-keypoints' body view draws one problem, not a batch of {problem.batch_size}")
    with torch.no_grad():
        joints, vertices = problem.body(_x(x), "all")
        truth_vertices = None if truth is None else problem.body(_x(truth), "all")[1]
    turn = torch.from_numpy(viewpoint.camera_pose(np.zeros(3), 1.0)[:3, :3]).float()  # camera axes in the body frame
    pelvis = joints[0, :1]
    seen = [None if points is None else ((points[0] - pelvis) @ turn).numpy() for points in (vertices, joints,
                                                                                             truth_vertices)]
    return fitted_body_views(seen[0], problem.faces.numpy(), seen[1], np.asarray(PARENTS), seen[2], size=SIZE)


def draw_keypoints(observation: np.ndarray) -> np.ndarray:
    """The detected keypoints and the skeleton through them, for the side panel: a missed keypoint's bone
    shrinks to its parent's point."""
    from ...bodies.pictures import keypoints_view

    points = np.array(observation[:, :2], dtype=np.float32)
    for k, parent in enumerate(KEYPOINT_PARENTS):  # parents come before their children
        if observation[k, 2] <= 0 and parent >= 0:
            points[k] = points[parent]
    return keypoints_view(observation, points, KEYPOINT_PARENTS, size=SIZE)
