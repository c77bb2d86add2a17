"""body-keypoints' pictures: the keypoints (detected and projected) and the fitted body from the front and the
side, coloured by its distance to the truth (engine.bodies.pictures)."""
from __future__ import annotations

import functools

import numpy as np
import torch

from ...bodies.skeleton import PARENTS
from .problem import KEYPOINT_PARENTS, BodyKeypointsConfig, BodyKeypointsProblem, make_problem

SIZE = (200, 360)
"""(height, width) of each panel."""


@functools.lru_cache(maxsize=1)
def _problem() -> BodyKeypointsProblem:
    return make_problem(BodyKeypointsConfig(), 1)


def _x(item: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(item, dtype=np.float32)).reshape(1, -1)


def keypoints_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                    truth: np.ndarray | None) -> np.ndarray:
    from ...bodies.pictures import keypoints_view

    with torch.no_grad():
        projected = _problem().projection(_x(x))[0].numpy()
    return keypoints_view(observation, projected, KEYPOINT_PARENTS, size=SIZE)


def body_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
               truth: np.ndarray | None) -> np.ndarray:
    from ...bodies.pictures import fitted_body_views

    problem = _problem()
    with torch.no_grad():
        joints, vertices = problem.body(_x(x), "all")
        truth_vertices = None if truth is None else problem.body(_x(truth), "all")[1][0].numpy()
    return fitted_body_views(vertices[0].numpy(), problem.faces.numpy(), joints[0].numpy(), np.asarray(PARENTS),
                             truth_vertices, size=SIZE)


def draw_keypoints(observation: np.ndarray) -> np.ndarray:
    """The detected keypoints and the skeleton through them, for the side panel: a missed keypoint's bone
    shrinks to its parent's point."""
    from ...bodies.pictures import keypoints_view

    points = np.array(observation[:, :2], dtype=np.float32)
    for k, parent in enumerate(KEYPOINT_PARENTS):  # parents come before their children
        if observation[k, 2] <= 0 and parent >= 0:
            points[k] = points[parent]
    return keypoints_view(observation, points, KEYPOINT_PARENTS, size=SIZE)
