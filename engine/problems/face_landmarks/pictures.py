"""face-landmarks' pictures: the landmarks in the image (observed and fitted), and the fitted face rendered by
pyrender from the problem's camera with its landmarks over it, beside the face seen from its left side.

The landmark panel frames the observed landmarks (their bounding box, enlarged by MARGIN); the fitted landmarks
are the estimate's projection (the energy's), coloured by their distance to the observed ones. The rendered
panel needs the problem (its face model and camera) and runs in the engine's process (a RenderedPanel): its
camera view is the problem's own camera cropped around the landmarks, with the fitted landmarks in blue and,
when the truth is known, the detector's report of the truth (the observation a synthetic problem solves) in grey;
its side view orbits the face by the viewpoint (at the default viewpoint: from the face's left, looking along -x),
orthographic, with the truth drawn beside the fit in pale blue, so a wrong depth shows as a gap. With the truth,
the fitted face is coloured by each vertex's distance to the truth's on RAMP_MM.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ...colour_ramp import ERROR_RGB, ramp_colours, ramp_legend
from ...bodies.pictures import BACKGROUND, ESTIMATE_RGB, SKIN_RGB, TARGET_RGB, TRUTH_FILL_RGB
from ..spec import Legend, Viewpoint
from .camera import Intrinsics

SIZE = (200, 360)
"""(height, width) of each panel; the rendered one holds two views side by side."""
RAMP_MM = (0.0, 20.0, 40.0)
"""Vertex errors (mm) at the error ramp's green, yellow and red."""
MARGIN = 1.25
"""The landmark panel's frame: the observed landmarks' bounding box enlarged this much."""
CAMERA_MARGIN, FOREHEAD = 1.7, 0.12
"""The camera view's frame: the landmarks' bounding box enlarged this much and moved up by this share of its
height (the forehead has no landmark)."""
SIDE_HALF_HEIGHT = 0.16
"""Metres the side view shows above and below the faces' centre (more when fit and truth lie further apart)."""
_SIDE_DISTANCE = 1.0
IBUG_CONTOURS = ((0, 17, False), (17, 22, False), (22, 27, False), (27, 31, False), (31, 36, False),
                 (36, 42, True), (42, 48, True), (48, 60, True), (60, 68, True))
"""iBUG's 68 landmarks as polylines (first, end, closed): jaw, brows, nose bridge and base, eyes, lips."""


def error_legend() -> Legend:
    return Legend("face by vertex error: ", tuple(ramp_legend(RAMP_MM, "mm")))


def contour_edges(count: int) -> np.ndarray:
    """(E, 2) the landmarks' contour lines: iBUG's for 68 landmarks, none for another layout."""
    if count != 68:
        return np.zeros((0, 2), dtype=np.int64)
    edges = []
    for first, end, closed in IBUG_CONTOURS:
        edges += [(k, k + 1) for k in range(first, end - 1)] + ([(end - 1, first)] if closed else [])
    return np.array(edges)


@functools.lru_cache(maxsize=4)
def _default_problem(config: tuple):
    from .problem import FaceLandmarksConfig, make_problem

    return make_problem(FaceLandmarksConfig(**dict(config)), 1)


def _item(problem: Any, values: np.ndarray, name: str) -> torch.Tensor:
    """(1, D) of an x item; ValueError (one line) unless it is D finite numbers."""
    array = np.asarray(values, dtype=np.float32)
    dimension = problem.layout.dimension
    if array.shape != (dimension,) or not np.isfinite(array).all():
        raise ValueError(f"face-landmarks' pictures need {name} of {dimension} finite numbers, got shape "
                         f"{array.shape}")
    return torch.from_numpy(array)[None].to(problem.device)


def _framed(observed: np.ndarray):
    """pixels (N, 2) -> keypoints_view's normalised coordinates, framing the observed landmarks (N, 2)."""
    low, high = observed.min(0), observed.max(0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2 * MARGIN, 1.0)
    return lambda pixels: (np.asarray(pixels, dtype=np.float64) - centre) * np.array([1.0, -1.0]) / half


def landmarks_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None,
                    config: dict[str, Any]) -> np.ndarray:
    """The observed landmarks (grey) and the estimate's projection, framed on the observed ones."""
    from ...bodies.pictures import keypoints_view

    problem = _default_problem(tuple(sorted(config.items())))
    with torch.no_grad():
        fitted = problem.projection(_item(problem, x, "an estimate"))[0].cpu().numpy()
    normalised = _framed(observation)
    target = np.concatenate([normalised(observation), np.ones((len(observation), 1))], axis=1)
    return keypoints_view(target, normalised(fitted), contour_edges(len(observation)), size=SIZE)


def draw_landmarks(observation: np.ndarray) -> np.ndarray:
    """The observed landmarks and their contours, for the side panel."""
    from ...bodies.pictures import keypoints_view

    points = _framed(observation)(observation)
    return keypoints_view(np.concatenate([points, np.ones((len(points), 1))], axis=1), points,
                          contour_edges(len(points)), size=SIZE)


def render_face(problem: Any, x: np.ndarray, truth: np.ndarray | None, viewpoint: Viewpoint) -> np.ndarray:
    """(H, W, 3) uint8: the camera view and the side view of a batch of one (module docstring)."""
    if problem.batch_size != 1:
        raise ValueError(f"face-landmarks' face view draws one problem, not a batch of {problem.batch_size}")
    with torch.no_grad():
        fit = problem.face(_item(problem, x, "an estimate"))
        fitted = problem.projection(_item(problem, x, "an estimate"))[0].cpu().numpy()
        true = None if truth is None else problem.face(_item(problem, truth, "a ground truth"))
        observed = None if truth is None else problem.forward(_item(problem, truth, "a ground truth"))[0].cpu().numpy()
    vertices = fit.vertices[0].cpu().double().numpy()
    true_vertices = None if true is None else true.vertices[0].cpu().double().numpy()
    if true_vertices is None:
        colours = np.tile(np.asarray(SKIN_RGB, dtype=np.uint8), (len(vertices), 1))
    else:
        colours = ramp_colours(1000.0 * np.linalg.norm(vertices - true_vertices, axis=-1), RAMP_MM, ERROR_RGB)
    height, width = SIZE
    widths = (width // 2, width - width // 2)
    shown = fitted if observed is None else np.concatenate([fitted, observed])
    low, high = shown.min(0), shown.max(0)
    centre = (low + high) / 2 - np.array([0.0, FOREHEAD * (high[1] - low[1])])
    scale = min(widths[0], height) / max(float((high - low).max()) * CAMERA_MARGIN, 1.0)  # panel px per image px
    camera = problem.camera
    cropped = Intrinsics(camera.focal * scale, (camera.cx - centre[0]) * scale + widths[0] / 2,
                         (camera.cy - centre[1]) * scale + height / 2, widths[0], height)
    centres = torch.stack([fit.landmarks[0].mean(0)] + ([] if true is None else [true.landmarks[0].mean(0)]))
    side_centre = centres.mean(0).cpu().double().numpy()
    spread = 0.5 * float((centres[0] - centres[-1]).norm())  # half the distance between fit and truth
    turned = Viewpoint(viewpoint.azimuth + math.pi / 2, viewpoint.elevation)
    front, side = _render(problem.faces.cpu().numpy(), vertices, colours, true_vertices, cropped,
                          turned.camera_pose(side_centre, _SIDE_DISTANCE), SIDE_HALF_HEIGHT + 1.2 * spread,
                          widths[1], height)
    front = _draw_landmarks(front, (fitted - centre) * scale + np.array([widths[0] / 2, height / 2]),
                            None if observed is None else (observed - centre) * scale
                            + np.array([widths[0] / 2, height / 2]))
    image = np.concatenate([front, side], axis=1)
    image[:, widths[0]] = (220, 218, 210)
    return image


def _render(faces: np.ndarray, vertices: np.ndarray, colours: np.ndarray, truth: np.ndarray | None,
            camera: Intrinsics, side_pose: np.ndarray, side_half_height: float, side_width: int,
            height: int) -> tuple[np.ndarray, np.ndarray]:
    """The fit from the (cropped) problem camera, then fit and truth from the side; each (h, w, 3) uint8. One
    renderer, made and deleted on the calling thread."""
    import trimesh

    from ...render.gl_backend import delete_offscreen_renderer, import_pyrender

    pyrender = import_pyrender()
    scene = pyrender.Scene(bg_color=(*np.divide(BACKGROUND, 255.0), 1.0), ambient_light=(0.3, 0.3, 0.3))

    def mesh(points: np.ndarray, rgb: np.ndarray):
        made = pyrender.Mesh.from_trimesh(trimesh.Trimesh(points, faces, vertex_colors=rgb, process=False),
                                          smooth=True)
        material = made.primitives[0].material
        material.alphaMode, material.metallicFactor, material.roughnessFactor = "OPAQUE", 0.0, 0.75
        return made

    scene.add(mesh(vertices, colours))
    light = scene.add(pyrender.DirectionalLight(intensity=3.0))
    renderer = pyrender.OffscreenRenderer(camera.width, height)
    try:
        view = scene.add(pyrender.IntrinsicsCamera(camera.focal, camera.focal, camera.cx, camera.cy, znear=0.01,
                                                   zfar=100.0))
        scene.main_camera_node = view
        front = renderer.render(scene)[0][..., :3].copy()
        scene.remove_node(view)
        if truth is not None:
            scene.add(mesh(truth, np.broadcast_to(np.uint8(TRUTH_FILL_RGB), truth.shape)))
        scene.main_camera_node = scene.add(pyrender.OrthographicCamera(
            xmag=side_half_height * side_width / height, ymag=side_half_height, znear=0.01,
            zfar=2 * _SIDE_DISTANCE), pose=side_pose)
        scene.set_pose(light, side_pose)
        renderer.viewport_width = side_width
        side = renderer.render(scene)[0][..., :3].copy()
    finally:
        delete_offscreen_renderer(renderer)
    return front, side


def _draw_landmarks(image: np.ndarray, fitted: np.ndarray, observed: np.ndarray | None) -> np.ndarray:
    """The fitted landmarks (panel pixels) as blue dots over the image, and the observed ones as grey dots with a
    line to their fitted landmark."""
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture, "RGBA")
    radius = max(1.5, image.shape[0] / 110)
    if observed is not None:
        for (x, y), (u, v) in zip(fitted, observed):
            draw.line([(x, y), (u, v)], fill=(*TARGET_RGB, 220), width=1)
            draw.ellipse([u - radius, v - radius, u + radius, v + radius], fill=(*TARGET_RGB, 230))
    for x, y in fitted:
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(*ESTIMATE_RGB, 255))
    return np.asarray(picture)
