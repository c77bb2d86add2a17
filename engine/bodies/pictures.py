"""Pictures of body fits (NumPy, pyrender, Pillow): the fitted body shaded and coloured by its error, with its
skeleton, from the front and the side; and a 2D keypoint fit. Each returns an (H, W, 3) uint8 image.

Body frame (SMPL's): metres, +y up, +z forward, +x the body's left. The body views are orthographic at one scale,
framed on a fixed box BOX_BELOW + BOX_ABOVE metres tall around the pelvis (joint 0), so every pose and place gives
the same framing. Front: looking along -z at the body's front (the body's left on the image's right). Side: from
the body's right, looking along +x (the body faces the image's right). Errors are coloured on the shared ramp
(engine.colour_ramp): green 0 mm -> yellow 50 mm -> red 100 mm and more.

fitted_body_views renders with pyrender (engine.render.gl_backend), one renderer per call, made and deleted on
the calling thread: call it in the engine's process, never in the app's (whose window owns a GL context).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from engine.colour_ramp import ERROR_RGB, ramp_colours, ramp_legend
from engine.render.gl_backend import delete_offscreen_renderer, import_pyrender

BOX_BELOW, BOX_ABOVE = 1.05, 1.15
"""Metres of the body views' box below and above the pelvis (feet, head and raised hands fit)."""
RAMP_MM = (0.0, 50.0, 100.0)
"""Vertex errors (mm) at the ramp's green, yellow and red."""
KEYPOINT_RAMP = (0.0, 0.05, 0.1)
"""2D keypoint errors (normalised image units, [-1, 1] across the image) at the ramp's green, yellow and red."""
BACKGROUND = (247, 246, 242)
SKIN_RGB = (214, 178, 156)
BONE_RGB = (28, 30, 40)
TRUTH_FILL_RGB = (200, 209, 230)
"""The ground-truth body where the fit does not cover it."""
TRUTH_OUTLINE_RGB = (105, 125, 180)
TARGET_RGB = (150, 150, 150)
ESTIMATE_RGB = (40, 110, 200)
"""The estimated 2D skeleton's bones."""
KEYPOINT_FRAME = 1.1
"""Half the span of normalised image coordinates the keypoint view shows."""
_DISTANCE = 5.0
"""Metres from the pelvis to the orthographic cameras; the body is drawn within this of the pelvis."""
_NEAR, _FAR = 0.5, 4 * _DISTANCE
"""The cameras' clipping planes (the truth is drawn 2 * _DISTANCE behind the fit)."""
_SUPERSAMPLE = 2


def vertex_error_colours(errors_mm: np.ndarray) -> np.ndarray:
    """(V, 3) uint8 colours of per-vertex errors (V,) in millimetres on the ramp RAMP_MM, clipped at 100 mm."""
    return ramp_colours(np.asarray(errors_mm, dtype=np.float64).reshape(-1), RAMP_MM, ERROR_RGB)


def error_legend_mm() -> list[tuple[str, tuple[int, int, int]]]:
    """Legend entries (label, RGB) of the body views' error ramp."""
    return ramp_legend(RAMP_MM, "mm")


def keypoint_error_legend() -> list[tuple[str, tuple[int, int, int]]]:
    """Legend entries (label, RGB) of the keypoint view's error ramp (normalised image units)."""
    return ramp_legend(KEYPOINT_RAMP, "")


def _array(values: np.ndarray, shape: tuple[int | None, ...], name: str) -> np.ndarray:
    """values as float64 of `shape` (None: any length), all finite; ValueError (one line) otherwise."""
    array = np.asarray(values, dtype=np.float64)
    _check_shape(array, shape, name)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _indices(values: np.ndarray | Sequence, shape: tuple[int | None, ...], low: int, high: int,
             name: str) -> np.ndarray:
    """Integers of `shape` (None: any length) within [low, high); ValueError (one line) otherwise."""
    array = np.asarray(values)
    if array.size == 0:
        array = array.reshape((0,) + tuple(shape[1:]))
    _check_shape(array, shape, name)
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers, got {array.dtype}")
    if array.size and (array.min() < low or array.max() >= high):
        raise ValueError(f"{name} must lie in [{low}, {high - 1}], got values from {array.min()} to {array.max()}")
    return array.astype(np.int64)


def _check_shape(array: np.ndarray, shape: tuple[int | None, ...], name: str) -> None:
    if array.ndim != len(shape) or any(n is not None and n != m for n, m in zip(shape, array.shape)):
        wanted = ", ".join("N" if n is None else str(n) for n in shape)
        raise ValueError(f"{name} must have shape ({wanted}), got {array.shape}")


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    height, width = (int(n) for n in size)
    if height < 32 or width < 32:
        raise ValueError(f"size (H, W) must be at least (32, 32), got {tuple(size)}")
    return height, width


def _view_rotation(view: str) -> np.ndarray:
    """(3, 3) camera-to-body rotation of a view (columns: image right, image up, towards the viewer)."""
    if view == "front":
        return np.eye(3)
    return np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # right: +z, towards the viewer: -x


def _rotation_towards(direction: tuple[float, float, float]) -> np.ndarray:
    """(3, 3) rotation whose +z axis is `direction` (a directional light shines along its -z)."""
    z = np.asarray(direction) / np.linalg.norm(direction)
    x = np.cross((0.0, 1.0, 0.0), z)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


LIGHTS = ((2.2, (-0.35, 0.45, 1.0)), (0.8, (0.6, -0.2, 0.8)))
"""Directional lights (intensity, direction towards the light in the viewing camera's frame): a key light over the
viewer's left shoulder and a weak fill from the right, the same in both views."""


def _render(vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray, truth: np.ndarray | None,
            height: int, widths: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per view (front, side): the shaded body (h, w, 3) uint8, where it covers (h, w) bool, and where the truth
    covers the rest (h, w) bool; pelvis-relative vertices. One render per view: the cameras are orthographic, so the
    truth, moved _DISTANCE behind the body along the view, covers the same pixels and never hides the fit."""
    import trimesh

    pyrender = import_pyrender()
    scene = pyrender.Scene(bg_color=(*np.divide(BACKGROUND, 255.0), 1.0), ambient_light=(0.3, 0.3, 0.3))

    def node(points: np.ndarray, rgb: np.ndarray):
        mesh = pyrender.Mesh.from_trimesh(trimesh.Trimesh(points, faces, vertex_colors=rgb, process=False),
                                          smooth=True)  # no material given: the vertex colours are used
        material = mesh.primitives[0].material
        material.alphaMode, material.metallicFactor, material.roughnessFactor = "OPAQUE", 0.0, 0.75
        return scene.add(mesh)

    node(vertices, colours)
    # the truth drawn like the fit (vertex colours) needs no second shader program, compiled anew for each renderer
    truth_node = None if truth is None else node(truth, np.broadcast_to(np.uint8(TRUTH_FILL_RGB), truth.shape))
    half_height = 0.5 * (BOX_BELOW + BOX_ABOVE)
    centre = np.array([0.0, 0.5 * (BOX_ABOVE - BOX_BELOW), 0.0])
    lights = [(scene.add(pyrender.DirectionalLight(intensity=intensity)), _rotation_towards(direction))
              for intensity, direction in LIGHTS]
    renderer = pyrender.OffscreenRenderer(widths[0], height)
    views = []
    try:
        for view, width in zip(("front", "side"), widths):
            rotation = _view_rotation(view)
            pose = np.eye(4)
            pose[:3, :3], pose[:3, 3] = rotation, centre + _DISTANCE * rotation[:, 2]
            camera = pyrender.OrthographicCamera(xmag=half_height * width / height, ymag=half_height, znear=_NEAR,
                                                 zfar=_FAR)
            scene.main_camera_node = scene.add(camera, pose=pose)
            for light, towards in lights:
                light_pose = np.eye(4)
                light_pose[:3, :3] = rotation @ towards
                scene.set_pose(light, light_pose)
            if truth_node is not None:
                behind = np.eye(4)
                behind[:3, 3] = -2 * _DISTANCE * rotation[:, 2]
                scene.set_pose(truth_node, behind)
            renderer.viewport_width = width
            colour, depth = renderer.render(scene)
            far = depth >= _reported_depth(2 * _DISTANCE)
            views.append((colour[..., :3].copy(), (depth > 0) & ~far, far))
            scene.remove_node(scene.main_camera_node)
    finally:
        delete_offscreen_renderer(renderer)
    return views


def _reported_depth(distance: float) -> float:
    """pyrender's depth for a point `distance` in front of the orthographic cameras: it converts every depth
    buffer as a perspective camera's, so orthographic depths come back warped (still increasing with distance)."""
    ndc = 2 * (distance - _NEAR) / (_FAR - _NEAR) - 1
    return 2 * _NEAR * _FAR / (_FAR + _NEAR - ndc * (_FAR - _NEAR))


def _outline(mask: np.ndarray) -> np.ndarray:
    """The pixels of a mask on its border (4-neighbourhood)."""
    padded = np.pad(mask, 1)
    inner = mask & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def _project(points: np.ndarray, view: str, width: int, height: int) -> np.ndarray:
    """Pixel coordinates (N, 2) of pelvis-relative points (N, 3) in one view of width x height pixels."""
    scale = height / (BOX_BELOW + BOX_ABOVE)
    horizontal = points @ _view_rotation(view)[:, 0]
    return np.stack([width / 2 + horizontal * scale, (BOX_ABOVE - points[:, 1]) * scale], -1)


def _draw_skeleton(image: np.ndarray, joints: np.ndarray, parents: np.ndarray, widths: tuple[int, int]) -> Image.Image:
    """The views (H, W, 3) with the skeleton drawn over each, anti-aliased and cut at its edges, and labelled."""
    height = image.shape[0]
    s = _SUPERSAMPLE
    stroke = max(2, round(height * 0.008)) * s
    picture = Image.fromarray(image).convert("RGBA")
    for offset, view, view_width in ((0, "front", widths[0]), (widths[0], "side", widths[1])):
        overlay = Image.new("RGBA", (view_width * s, height * s), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        points = _project(joints, view, view_width, height) * s
        for k in np.flatnonzero(parents >= 0):
            draw.line([tuple(points[parents[k]]), tuple(points[k])], fill=(*BONE_RGB, 235), width=stroke)
        radius = 0.8 * stroke
        for x, y in points:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(*BONE_RGB, 255))
        draw.text((6 * s, 4 * s), view, fill=(110, 110, 110, 255), font_size=11 * s)
        picture.alpha_composite(overlay.resize((view_width, height), Image.LANCZOS), dest=(offset, 0))
    return picture.convert("RGB")


def fitted_body_views(vertices: np.ndarray, faces: np.ndarray, joints: np.ndarray, parents: np.ndarray | Sequence[int],
                      truth_vertices: np.ndarray | None = None, size: tuple[int, int] = (200, 360)) -> np.ndarray:
    """(H, W, 3) uint8: the fitted body (vertices (V, 3), faces (F, 3)) from the front and the side, side by side,
    shaded and coloured per vertex by its distance to truth_vertices (V, 3) on the ramp RAMP_MM (skin colour
    without the truth), the truth's silhouette light behind it and outlined, and the skeleton (joints (J, 3),
    parents (J,), -1 at roots) drawn over it; size is (H, W) of the whole picture (module docstring for the
    framing)."""
    height, width = _check_size(size)
    vertices = _array(vertices, (None, 3), "vertices")
    faces = _indices(faces, (None, 3), 0, len(vertices), "faces")
    if len(faces) == 0:
        raise ValueError("faces must hold at least one triangle, got none")
    joints = _array(joints, (None, 3), "joints")
    if len(joints) == 0:
        raise ValueError("joints must hold the pelvis at least, got none")
    parents = _indices(parents, (len(joints),), -1, len(joints), "parents")
    truth = None if truth_vertices is None else _array(truth_vertices, vertices.shape, "truth_vertices")
    if truth is None:
        colours = np.tile(np.asarray(SKIN_RGB, dtype=np.uint8), (len(vertices), 1))
    else:
        colours = vertex_error_colours(1000.0 * np.linalg.norm(vertices - truth, axis=-1))
    pelvis = joints[0]
    widths = (width // 2, width - width // 2)
    views = _render(vertices - pelvis, faces, colours, None if truth is None else truth - pelvis, height, widths)
    pictures = []
    for colour, covered, behind in views:
        colour[behind] = TRUTH_FILL_RGB
        colour[_outline(behind | covered) & behind] = TRUTH_OUTLINE_RGB
        pictures.append(colour)
    image = np.concatenate(pictures, axis=1)
    image[:, widths[0]] = (220, 218, 210)
    return np.asarray(_draw_skeleton(image, joints - pelvis, parents, widths))


def _edges(skeleton: np.ndarray | Sequence, count: int) -> np.ndarray:
    """(E, 2) keypoint pairs from parents (K,) (-1 at roots) or from pairs (E, 2)."""
    array = np.asarray(skeleton)
    if array.ndim == 2 or array.size == 0:
        return _indices(array, (None, 2), 0, count, "edges")
    parents = _indices(array, (count,), -1, count, "parents_of_keypoints")
    children = np.flatnonzero(parents >= 0)
    return np.stack([parents[children], children], axis=1)


def keypoints_view(target: np.ndarray, estimate: np.ndarray, skeleton: np.ndarray | Sequence,
                   size: tuple[int, int] = (240, 240)) -> np.ndarray:
    """(H, W, 3) uint8 picture of a 2D keypoint fit: target keypoints (K, 3) [u, v, confidence] as grey dots as
    opaque as they are confident (dropped ones, confidence 0, as small hollow circles), the estimate (K, 2) as dots
    coloured by their error on KEYPOINT_RAMP with a line to their target, and its skeleton (parents (K,), -1 at
    roots, or pairs (E, 2)) in blue. (u, v) are normalised image coordinates in [-1, 1], v up; the picture shows
    [-1.1, 1.1] on its shorter side, centred, with the image's border drawn; size is (H, W)."""
    height, width = _check_size(size)
    target = _array(target, (None, 3), "target")
    estimate = _array(estimate, (len(target), 2), "estimate")
    edges = _edges(skeleton, len(target))
    confidence = np.clip(target[:, 2], 0.0, 1.0)
    dropped = confidence <= 0
    errors = np.linalg.norm(estimate - target[:, :2], axis=-1)
    colours = ramp_colours(errors, KEYPOINT_RAMP, ERROR_RGB)
    colours[dropped] = TARGET_RGB  # no target to be wrong against
    s = _SUPERSAMPLE
    scale = s * min(width, height) / (2 * KEYPOINT_FRAME)

    def pixels(uv: np.ndarray) -> np.ndarray:
        uv = np.clip(uv, -10.0, 10.0)  # far points stay drawable (off the picture)
        return np.stack([s * width / 2 + uv[:, 0] * scale, s * height / 2 - uv[:, 1] * scale], -1)

    image = Image.new("RGB", (width * s, height * s), BACKGROUND)
    draw = ImageDraw.Draw(image, "RGBA")
    corner = pixels(np.array([[-1.0, 1.0], [1.0, -1.0]]))
    draw.rectangle([tuple(corner[0]), tuple(corner[1])], outline=(215, 213, 206), width=s)
    at, to = pixels(target[:, :2]), pixels(estimate)
    stroke = max(2, round(min(width, height) * 0.01)) * s
    for k in np.flatnonzero(~dropped):
        draw.line([tuple(to[k]), tuple(at[k])], fill=(*colours[k], 200), width=max(1, stroke // 2))
    for i, j in edges:
        draw.line([tuple(to[i]), tuple(to[j])], fill=(*ESTIMATE_RGB, 230), width=stroke)
    radius = 1.8 * stroke
    for (x, y), c, gone in zip(at, confidence, dropped):
        if gone:
            r = 0.8 * radius
            draw.ellipse([x - r, y - r, x + r, y + r], outline=(*TARGET_RGB, 255), width=max(1, stroke // 2))
        else:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(*TARGET_RGB, round(60 + 195 * c)))
    r = 0.9 * stroke
    for (x, y), rgb in zip(to, colours):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(*rgb, 255), outline=(60, 60, 60, 255), width=max(1, s // 2))
    return np.asarray(image.resize((width, height), Image.LANCZOS))
