"""Pictures of an IK result: the target and the estimated skeleton from the front and the side (NumPy, Pillow).

Both views are orthographic at one scale, framed on a fixed box 2.2 m tall around the root (1.05 m below,
1.15 m above: feet, head and raised hands fit), so every pose gives the same framing and image size.
Front: looking along -z at the body's front (the body's left on the image's right). Side: from the body's right,
looking along +x (the body faces the image's right). Target bones are grey; estimated bones and joints are
coloured by their joint's position error on a ramp green (0 cm) -> yellow (5 cm) -> red (10 cm and more).
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image, ImageDraw

from engine.bodies.pictures import BOX_ABOVE as _ABOVE, BOX_BELOW as _BELOW
from engine.bodies.skeleton import NUM_JOINTS, PARENTS
from engine.colour_ramp import ERROR_RGB as RAMP_RGB, ramp_colours, ramp_legend

RAMP_CM = (0.0, 5.0, 10.0)
BACKGROUND = (247, 246, 242)
TARGET_RGB = (150, 150, 150)
_SUPERSAMPLE = 3


def error_colour(errors_m: np.ndarray | torch.Tensor) -> np.ndarray:
    """(N, 3) uint8 colours of position errors (N,) in metres on the ramp (RAMP_CM, RAMP_RGB), clipped at 10 cm."""
    errors = np.asarray(torch.as_tensor(errors_m).detach().cpu(), dtype=np.float64).reshape(-1) * 100.0
    return ramp_colours(errors, RAMP_CM, RAMP_RGB)


def error_legend() -> list[tuple[str, tuple[int, int, int]]]:
    """The ramp's legend entries (label, RGB)."""
    return ramp_legend(RAMP_CM, "cm")


def _points(joints: np.ndarray, view: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (24, 2) and depth (24,) (larger is nearer the viewer) in one view."""
    scale = height / (_BELOW + _ABOVE)
    horizontal, depth = (joints[:, 0], joints[:, 2]) if view == "front" else (joints[:, 2], -joints[:, 0])
    u = width / 2 + horizontal * scale
    v = (_ABOVE - joints[:, 1]) * scale
    return np.stack([u, v], -1), depth


def _draw_view(draw: ImageDraw.ImageDraw, offset: int, target: np.ndarray, estimate: np.ndarray,
               colours: np.ndarray, view: str, width: int, height: int) -> None:
    s = _SUPERSAMPLE
    stroke = max(2, round(height * 0.012)) * s  # bone width and joint dot radius, supersampled pixels
    ground = _points(np.array([[0.0, -_BELOW * 0.93, 0.0]]), view, width, height)[0][0, 1]
    draw.line([(offset * s, ground * s), ((offset + width) * s, ground * s)], fill=(225, 223, 216), width=s)
    for joints, fill, widen in ((target, None, 1.0), (estimate, colours, 0.8)):
        points, depth = _points(joints, view, width, height)
        points = (points + [offset, 0]) * s
        shade = (depth - depth.min()) / max(float(np.ptp(depth)), 1e-9)
        for k in sorted(range(1, NUM_JOINTS), key=lambda j: depth[j] + depth[PARENTS[j]]):  # far bones first
            rgb = np.asarray(TARGET_RGB if fill is None else fill[k], dtype=np.float64)
            rgb = rgb * (0.8 + 0.2 * 0.5 * (shade[k] + shade[PARENTS[k]]))  # nearer bones slightly brighter
            draw.line([tuple(points[PARENTS[k]]), tuple(points[k])], fill=tuple(int(c) for c in rgb),
                      width=int(stroke * widen))
        for k in np.argsort(depth):
            rgb = TARGET_RGB if fill is None else tuple(int(c) for c in fill[k])
            x, y = points[k]
            r = stroke * (0.9 if fill is None else 0.75)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rgb, outline=(60, 60, 60), width=max(1, s // 2))
    draw.text(((offset + 6) * s, 4 * s), view, fill=(110, 110, 110), font_size=11 * s)


def skeleton_views(target: torch.Tensor | np.ndarray, estimate: torch.Tensor | np.ndarray,
                   size: tuple[int, int] = (512, 256), legend: bool = True) -> np.ndarray:
    """(H, W, 3) uint8: the target (grey) and estimated (error-coloured) skeletons, joints (24, 3) in metres
    relative to the root, front and side views side by side; size is (width, height) of the whole image."""
    width, height = size
    target, estimate = (np.asarray(torch.as_tensor(a).detach().cpu(), dtype=np.float64) for a in (target, estimate))
    for name, joints in (("target", target), ("estimate", estimate)):
        if joints.shape != (NUM_JOINTS, 3):
            raise ValueError(f"{name} must have shape ({NUM_JOINTS}, 3), got {joints.shape}")
    if width < 32 or height < 32:
        raise ValueError(f"size must be at least (32, 32), got {size}")
    target, estimate = target - target[0], estimate - target[0]
    colours = error_colour(np.linalg.norm(estimate - target, axis=-1))
    s = _SUPERSAMPLE
    image = Image.new("RGB", (width * s, height * s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    half = width // 2
    for i, view in enumerate(("front", "side")):
        _draw_view(draw, i * half, target, estimate, colours, view, half if i == 0 else width - half, height)
    draw.line([(half * s, 0), (half * s, height * s)], fill=(220, 218, 210), width=s)
    legend_x = width - 8
    for label, rgb in reversed(error_legend() if legend else []):
        text_width = draw.textlength(label, font_size=10 * s) / s
        legend_x -= text_width + 14
        y = height - 14
        draw.rectangle([legend_x * s, y * s, (legend_x + 8) * s, (y + 8) * s], fill=rgb)
        draw.text(((legend_x + 11) * s, (y - 2) * s), label, fill=(90, 90, 90), font_size=10 * s)
        legend_x -= 6
    return np.asarray(image.resize((width, height), Image.LANCZOS))


BODY_RGB = (214, 178, 156)


@functools.lru_cache(maxsize=1)
def _default_body():
    from engine.bodies.model import load_body

    return load_body()


def body_views(x: torch.Tensor | np.ndarray, size: tuple[int, int] = (512, 256)) -> np.ndarray:
    """(H, W, 3) uint8: the default body mesh posed by x (72,) axis-angle, root at the origin, front and side
    views side by side, framed like skeleton_views."""
    from engine.render.shaded import shade_mesh

    pose = torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(1, NUM_JOINTS, 3)
    body = _default_body()
    with torch.no_grad():
        out = body(pose=pose)
    vertices = out.vertices[0] - out.joints[0, 0]
    width, height = size
    half = width // 2
    center = (0.0, (_ABOVE - _BELOW) / 2)
    side = torch.stack([vertices[:, 2], vertices[:, 1], -vertices[:, 0]], dim=1)  # seen from the body's right
    views = [shade_mesh(points, body.faces, (w, height), center, _BELOW + _ABOVE, BODY_RGB, BACKGROUND)
             for points, w in ((vertices, half), (side, width - half))]
    return torch.cat(views, dim=1).numpy()
