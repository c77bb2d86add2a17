"""body-hmd's pictures: the fitted body from the front and the side coloured by its distance to the truth
(engine.bodies.pictures.fitted_body_views), and the device's signals with the fitted body's own.

Both are drawn in the world turned about the vertical so that the observed headset looks along +z: the front
view faces the wearer whichever way they turned. The signals view (front and side, orthographic, a box
SIGNALS_BOX metres tall around the headset): the headset as a square with its axes (x red, y green, z blue: the
way it looks), each tracked wrist with its axes and lines to its fingertips; the fitted body's headset, wrists and
fingertips in blue, joined to the observed ones by thin lines; a hand the device does not see is said so in a
corner and its fitted points drawn hollow.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image, ImageDraw

from ...bodies.skeleton import SMPLH_PARENTS
from . import sensors
from ..spec import Viewpoint
from .problem import BodyHmdConfig, BodyHmdProblem, Posed, make_problem

SIZE = (200, 360)
"""(height, width) of each panel."""
SIGNALS_BOX = (1.2, 0.35)
"""Metres shown below and above the headset in the signals view."""
AXIS_M = {"headset": 0.15, "wrist": 0.08}
AXIS_RGB = ((220, 50, 47), (46, 160, 67), (40, 90, 220))
OBSERVED_RGB = (60, 60, 60)
FITTED_RGB = (40, 110, 200)
FLOOR_RGB = (190, 186, 176)
BACKGROUND = (247, 246, 242)
_SUPERSAMPLE = 2


@functools.lru_cache(maxsize=1)
def _problem() -> BodyHmdProblem:
    return make_problem(BodyHmdConfig(), 1)


def _tensor(item: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(item, dtype=np.float32)).reshape(1, -1)


def _facing(observed: sensors.Signals) -> np.ndarray:
    """(3, 3) the turn about +y that makes the headset look along +z (applied to world points as R @ p)."""
    heading = observed.headset_rotation[0, :, 2].double()
    yaw = float(torch.atan2(heading[0], heading[2]))
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])


def _posed(x: np.ndarray, betas: torch.Tensor, vertices: str) -> Posed:
    with torch.no_grad():
        return _problem().posed(_tensor(x), vertices, betas)


def render_body(problem: BodyHmdProblem, x: np.ndarray, truth: np.ndarray | None, viewpoint: Viewpoint) -> np.ndarray:
    """The fitted body of a batch of one (its own shape), front and side, turned so that its headset looks along
    +z and then by the viewpoint about the pelvis, coloured by its distance to the truth when it is given.
    pyrender: drawn in the engine's process (a RenderedPanel)."""
    from ...bodies.pictures import fitted_body_views

    if problem.batch_size != 1:
        raise ValueError(f"body-hmd's body view draws one problem, not a batch of {problem.batch_size}")
    with torch.no_grad():
        fitted = problem.posed(_tensor(x), "all")
        facing = _facing(problem.posed(_tensor(x), "fingertips").signals(problem.betas))
        truth_vertices = None if truth is None else problem.posed(_tensor(truth), "all").vertices[0].numpy()
    pelvis = fitted.joints[0, 0].numpy()
    turn = viewpoint.camera_pose(np.zeros(3), 1.0)[:3, :3].T @ facing  # world -> the viewer's frame

    def seen(points: np.ndarray) -> np.ndarray:
        return (points - pelvis) @ turn.T

    return fitted_body_views(seen(fitted.vertices[0].numpy()), problem.faces.numpy(), seen(fitted.joints[0].numpy()),
                             np.asarray(SMPLH_PARENTS), None if truth_vertices is None else seen(truth_vertices),
                             size=SIZE)


def signals_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                  truth: np.ndarray | None) -> np.ndarray:
    observed = sensors.unpack(_tensor(observation))
    fitted = _posed(x, observed.betas, "fingertips").signals(observed.betas)
    return signals_view(observed, fitted)


def draw_observation(observation: np.ndarray) -> np.ndarray:
    """The signals alone, for the side panel."""
    return signals_view(sensors.unpack(_tensor(observation)), None)


def signals_view(observed: sensors.Signals, fitted: sensors.Signals | None) -> np.ndarray:
    """(H, W, 3) uint8: the observed signals (batch of one) and, when given, the fitted body's (module docstring)."""
    height, width = SIZE
    s = _SUPERSAMPLE
    turn = _facing(observed)
    centre = turn @ observed.headset_position[0].double().numpy()
    scale = s * height / sum(SIGNALS_BOX)
    image = Image.new("RGB", (width * s, height * s), BACKGROUND)
    draw = ImageDraw.Draw(image, "RGBA")
    half = width * s // 2
    for offset, across in ((0, 0), (half, 2)):  # front: image right = +x; side (from the right): +z
        def pixel(points: np.ndarray) -> np.ndarray:
            p = (np.asarray(points, dtype=np.float64).reshape(-1, 3) @ turn.T) - centre
            return np.stack([offset + half / 2 + p[:, across] * scale, (SIGNALS_BOX[1] - p[:, 1]) * scale], -1)

        floor = (SIGNALS_BOX[1] + centre[1]) * scale  # y = 0
        draw.line([(offset, floor), (offset + half, floor)], fill=FLOOR_RGB, width=s)
        _draw_signals(draw, observed, pixel, OBSERVED_RGB, axes=True, hollow=False)
        if fitted is not None:
            _draw_errors(draw, observed, fitted, pixel)
            _draw_signals(draw, fitted, pixel, FITTED_RGB, axes=False, hollow=True, shown=observed.visible[0])
    draw.line([(half, 0), (half, height * s)], fill=(220, 218, 210), width=s)
    hidden = [side for h, side in enumerate(sensors.SIDES) if observed.visible[0, h] <= 0]
    if hidden:
        draw.text((6 * s, (height - 16) * s), f"{' and '.join(hidden)} hand{'s' if len(hidden) > 1 else ''} not "
                  "tracked", fill=(150, 60, 40, 255), font_size=10 * s)
    return np.asarray(image.resize((width, height), Image.LANCZOS))


def _points(signals: sensors.Signals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The headset (3,), the wrists (2, 3) and the fingertips (2, 5, 3) of a batch of one."""
    return (signals.headset_position[0].numpy(), signals.wrist_positions[0].numpy(),
            signals.fingertips[0].numpy())


def _draw_signals(draw: ImageDraw.ImageDraw, signals: sensors.Signals, pixel, rgb: tuple[int, int, int],
                  axes: bool, hollow: bool, shown: torch.Tensor | None = None) -> None:
    s = _SUPERSAMPLE
    headset, wrists, tips = _points(signals)
    if axes:
        _draw_axes(draw, headset, signals.headset_rotation[0].numpy(), AXIS_M["headset"], pixel)
    (hx, hy), = pixel(headset)
    r = 4 * s
    draw.rectangle([hx - r, hy - r, hx + r, hy + r], fill=None if hollow else (*rgb, 255), outline=(*rgb, 255),
                   width=s)
    visible = signals.visible[0] if shown is None else shown
    for h in range(2):
        seen = bool(visible[h] > 0)
        if not seen and not hollow:
            continue
        if axes:
            _draw_axes(draw, wrists[h], signals.wrist_rotations[0, h].numpy(), AXIS_M["wrist"], pixel)
        wrist, = pixel(wrists[h])
        for tip in pixel(tips[h]):
            draw.line([tuple(wrist), tuple(tip)], fill=(*rgb, 150 if seen else 70), width=s)
            _dot(draw, tip, 1.6 * s, rgb, hollow=hollow and not seen)
        _dot(draw, wrist, 3 * s, rgb, hollow=hollow and not seen)


def _draw_errors(draw: ImageDraw.ImageDraw, observed: sensors.Signals, fitted: sensors.Signals, pixel) -> None:
    """Thin lines from each observed point to the fitted body's."""
    pairs = [(observed.headset_position[0], fitted.headset_position[0])]
    for h in range(2):
        if observed.visible[0, h] > 0:
            pairs += [(observed.wrist_positions[0, h], fitted.wrist_positions[0, h])]
            pairs += list(zip(observed.fingertips[0, h], fitted.fingertips[0, h]))
    for a, b in pairs:
        (ax, ay), (bx, by) = pixel(np.stack([a.numpy(), b.numpy()]))
        draw.line([(ax, ay), (bx, by)], fill=(200, 80, 60, 200), width=_SUPERSAMPLE)


def _draw_axes(draw: ImageDraw.ImageDraw, origin: np.ndarray, rotation: np.ndarray, length: float, pixel) -> None:
    start, = pixel(origin)
    for axis, rgb in enumerate(AXIS_RGB):
        end, = pixel(origin + length * rotation[:, axis])
        draw.line([tuple(start), tuple(end)], fill=(*rgb, 230), width=2 * _SUPERSAMPLE)


def _dot(draw: ImageDraw.ImageDraw, at: np.ndarray, radius: float, rgb: tuple[int, int, int], hollow: bool) -> None:
    x, y = at
    box = [x - radius, y - radius, x + radius, y + radius]
    if hollow:
        draw.ellipse(box, outline=(*rgb, 200), width=_SUPERSAMPLE)
    else:
        draw.ellipse(box, fill=(*rgb, 255))
