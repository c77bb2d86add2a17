"""Pictures of a pose-from-2d estimate (NumPy, Pillow): the first camera's view of the detected joints and the
estimate's, and the 3D skeleton, estimate against truth, from the front and the side.

The camera view crops the first camera's image to a square around the detections (so every frame of one
observation is framed alike): detected joints and bones in grey, the estimate's joints projected by the rig's
weak perspective in colour, by their 3D error when the truth is known (ik's ramp: green 0 cm, yellow 5, red 10
and more) and blue otherwise. The 3D views are ik's (engine.problems.ik.pictures.skeleton_views), drawn in the
truth's facing: the 17 joints are put on SMPL's 24-joint tree (spine1 at the spine, spine2 between spine and
thorax, spine3 and the collars at the thorax, neck at the nose, head at the head top, feet and hands at ankles
and wrists), whose bones are then Human3.6M's.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from engine.bodies.skeleton import JOINT_INDEX, NUM_JOINTS
from ..ik.pictures import BACKGROUND, TARGET_RGB, error_colour, skeleton_views
from . import model
from .skeleton import JOINT_NAMES, PARENTS, yaw_matrix

ESTIMATE_RGB = (40, 110, 200)
_SUPERSAMPLE = 3
_ON_SMPL = {"spine1": "spine", "spine3": "thorax", "left_collar": "thorax", "right_collar": "thorax",
            "neck": "neck", "head": "head", "left_foot": "left_ankle", "right_foot": "right_ankle",
            "left_hand": "left_wrist", "right_hand": "right_wrist", "left_hip": "left_hip", "right_hip": "right_hip",
            "left_knee": "left_knee", "right_knee": "right_knee", "left_ankle": "left_ankle",
            "right_ankle": "right_ankle", "left_shoulder": "left_shoulder", "right_shoulder": "right_shoulder",
            "left_elbow": "left_elbow", "right_elbow": "right_elbow", "left_wrist": "left_wrist",
            "right_wrist": "right_wrist", "pelvis": "pelvis"}


def on_smpl_tree(joints: np.ndarray) -> np.ndarray:
    """(24, 3) SMPL-tree joints standing for Human3.6M joints (17, 3) (module docstring)."""
    index = {name: i for i, name in enumerate(JOINT_NAMES)}
    tree = np.zeros((NUM_JOINTS, 3))
    for smpl, h36m in _ON_SMPL.items():
        tree[JOINT_INDEX[smpl]] = joints[index[h36m]]
    tree[JOINT_INDEX["spine2"]] = 0.5 * (joints[index["spine"]] + joints[index["thorax"]])
    return tree


def _x(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64)).reshape(1, -1)


def _in_truth_facing(x: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(17, 3) x's pose turned by its yaw, then back by the truth's: in the truth's canonical facing."""
    turned = model.turned_joints(_x(x))[0]
    return (turned @ yaw_matrix(_x(truth)[0, 0])).numpy()


def skeleton_panel(x: np.ndarray, truth: np.ndarray | None, size: tuple[int, int] = (360, 200)) -> np.ndarray:
    """(H, W, 3) uint8: the estimate's skeleton against the truth's (grey), front and side; without the truth,
    the estimate alone."""
    reference = x if truth is None else truth
    estimate = on_smpl_tree(_in_truth_facing(x, reference))
    target = on_smpl_tree(model.pose_joints(_x(reference))[0].numpy())
    return skeleton_views(target, estimate, size=size, legend=False)


def _crop(detections: np.ndarray) -> tuple[np.ndarray, float]:
    """The top-left corner and side (px) of the square around one camera's detections (17, 2)."""
    low, high = np.percentile(detections, 5, axis=0), np.percentile(detections, 95, axis=0)
    side = max(float((high - low).max()) * 1.5, 200.0)
    return (low + high) / 2 - side / 2, side


def _draw_skeleton(draw: ImageDraw.ImageDraw, points: np.ndarray, colours: np.ndarray, width: int) -> None:
    for j in range(1, len(points)):
        parent = PARENTS[j]
        draw.line([tuple(points[parent]), tuple(points[j])], fill=tuple(int(c) for c in colours[j]), width=width)
    for point, colour in zip(points, colours):
        r = width * 0.9
        draw.ellipse([point[0] - r, point[1] - r, point[0] + r, point[1] + r], fill=tuple(int(c) for c in colour),
                     outline=(60, 60, 60), width=max(1, width // 4))


def camera_view(observation: np.ndarray, x: np.ndarray | None, truth: np.ndarray | None,
                size: int = 240) -> np.ndarray:
    """(size, size, 3) uint8: the first camera's detections (grey) and, given x, the estimate's joints (module
    docstring)."""
    detections = np.asarray(observation, dtype=np.float64)[0]
    corner, side = _crop(detections)
    s = _SUPERSAMPLE
    scale = size * s / side
    image = Image.new("RGB", (size * s, size * s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    stroke = max(2, round(size * 0.012)) * s
    grey = np.tile(np.asarray(TARGET_RGB), (len(detections), 1))
    _draw_skeleton(draw, (detections - corner) * scale, grey, stroke)
    if x is not None:
        projected = model.project(_x(x), 1)[0, 0].numpy()
        colours = np.tile(np.asarray(ESTIMATE_RGB), (len(projected), 1)) if truth is None else error_colour(
            np.linalg.norm(_in_truth_facing(x, truth) - model.pose_joints(_x(truth))[0].numpy(), axis=-1))
        _draw_skeleton(draw, (projected - corner) * scale, colours, int(stroke * 0.7))
    draw.text((5 * s, 3 * s), "camera 1", fill=(110, 110, 110), font_size=11 * s)
    return np.asarray(image.resize((size, size), Image.LANCZOS))


YAWS = 121
"""Yaw samples of the energy profile."""
UNTRAINED_RGB, LEARNED_RGB, TRUTH_YAW_RGB = (150, 150, 150), (40, 110, 200), (46, 160, 67)


def yaw_energy_view(observation: np.ndarray, x: np.ndarray, truth: np.ndarray | None, noise_px: float,
                    energies: dict[str, dict[str, torch.Tensor]], size: tuple[int, int] = (360, 120)) -> np.ndarray:
    """(H, W, 3) uint8: the energy of the estimate turned to every yaw (its pose and root kept), under each of
    `energies` (label -> weights: the untrained one grey, the configured one blue), each scaled to the picture's
    height (their scales differ); the estimate's yaw (orange) and the truth's (green) marked. The paper's Fig. 3
    for this energy: how training reshapes it, one slice through its minimum."""
    yaws = torch.linspace(-np.pi, np.pi, YAWS, dtype=torch.float64)
    turned = torch.as_tensor(x, dtype=torch.float64).reshape(1, -1).repeat(YAWS, 1)
    turned[:, 0] = yaws
    detections = torch.as_tensor(observation, dtype=torch.float64)[None].expand(YAWS, *observation.shape)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width, height = size

    def column(yaw: float) -> float:
        return 6 + (yaw + np.pi) / (2 * np.pi) * (width - 12)

    for yaw, rgb in ((None if truth is None else float(truth[0]), TRUTH_YAW_RGB), (float(x[0]), (230, 120, 20))):
        if yaw is not None:
            at = column((yaw + np.pi) % (2 * np.pi) - np.pi)
            draw.line([(at, 14), (at, height - 4)], fill=rgb, width=2)
    for (label, weights), rgb in zip(energies.items(), (UNTRAINED_RGB, LEARNED_RGB)):
        with torch.no_grad():
            values = model.energy(turned, detections, {k: v.double() for k, v in weights.items()}, noise_px).numpy()
        low, high = float(values.min()), float(values.max())
        rows = height - 6 - (values - low) / max(high - low, 1e-12) * (height - 24)
        draw.line(list(zip([column(float(y)) for y in yaws], rows.tolist())), fill=rgb, width=2)
    names = " and ".join(f"{label} ({'grey' if i == 0 else 'blue'})" for i, label in enumerate(energies))
    draw.text((6, 1), f"energy over the yaw: {names}", fill=(40, 40, 40))
    return np.asarray(image)
