"""Shaded images of posed bodies with pyrender (headless OpenGL, chosen by engine.render.gl_backend).

Front view: the camera looks at the body along -z (SMPL's bodies face +z), framed so that every body of the
batch fits at the same scale. Each call makes its GL context on the calling thread and deletes it there.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import trimesh

from engine.camera import Camera
from engine.render.gl_backend import delete_offscreen_renderer, import_pyrender

SKIN = (0.78, 0.66, 0.58, 1.0)
MARKER = (0.7, 0.0, 0.0, 1.0)
BACKGROUND = (1.0, 1.0, 1.0)
MARGIN = 1.08


def _frame(vertices: np.ndarray, camera: Camera) -> np.ndarray:
    """Camera-to-world pose (4, 4): in front of the bodies' joint bounding box, far enough to show all of it."""
    low, high = vertices.reshape(-1, 3).min(axis=0), vertices.reshape(-1, 3).max(axis=0)
    centre = 0.5 * (low + high)
    half_height = 0.5 * (high[1] - low[1]) * MARGIN
    half_width = 0.5 * (high[0] - low[0]) * MARGIN
    tan_y = math.tan(0.5 * camera.fov_y)
    distance = max(half_height / tan_y, half_width / (tan_y * camera.aspect))
    pose = np.eye(4)
    pose[:3, 3] = (centre[0], centre[1], high[2] + distance)
    return pose


def render_bodies(vertices: torch.Tensor, faces: torch.Tensor, camera: Camera | None = None,
                  markers: torch.Tensor | None = None, marker_radius: float = 0.01) -> torch.Tensor:
    """(B, H, W, 3) uint8 shaded front views of bodies (B, V, 3) with faces (F, 3), on the vertices' device;
    markers (B, P, 3), when given, are drawn as red balls of marker_radius metres (landmarks, joints)."""
    if vertices.ndim != 3 or vertices.shape[-1] != 3:
        raise ValueError(f"vertices must have shape (B, V, 3), got {tuple(vertices.shape)}")
    if faces.ndim != 2 or faces.shape[-1] != 3:
        raise ValueError(f"faces must have shape (F, 3), got {tuple(faces.shape)}")
    if markers is not None and (markers.ndim != 3 or markers.shape[0] != vertices.shape[0] or markers.shape[-1] != 3):
        raise ValueError(f"markers must have shape ({vertices.shape[0]}, P, 3), got {tuple(markers.shape)}")
    camera = camera or Camera(height=512, width=256, fov_y=math.radians(30.0))
    points = vertices.detach().to("cpu", torch.float64).numpy()
    if not np.isfinite(points).all():
        raise ValueError("vertices contain NaN or infinite values")
    triangles = faces.detach().to("cpu", torch.int64).numpy()
    pyrender = import_pyrender()
    scene = pyrender.Scene(bg_color=(*BACKGROUND, 1.0), ambient_light=(0.25, 0.25, 0.25))
    camera_pose = _frame(points, camera)
    scene.add(pyrender.PerspectiveCamera(yfov=camera.fov_y, znear=camera.near, zfar=camera.far,
                                         aspectRatio=camera.aspect), pose=camera_pose)
    for direction, intensity in (((0.0, 0.0, 1.0), 2.0), ((-0.5, 0.8, 0.6), 2.5)):
        light_pose = np.eye(4)
        z = np.asarray(direction) / np.linalg.norm(direction)  # a directional light shines along its -z
        x = np.cross((0.0, 1.0, 0.0), z) if abs(z[1]) < 0.99 else np.array([1.0, 0.0, 0.0])
        x /= np.linalg.norm(x)
        light_pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
        scene.add(pyrender.DirectionalLight(intensity=intensity), pose=light_pose)
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=SKIN, metallicFactor=0.0, roughnessFactor=0.7)
    ball = trimesh.creation.icosphere(subdivisions=2, radius=marker_radius)
    red = pyrender.MetallicRoughnessMaterial(baseColorFactor=MARKER, metallicFactor=0.0, roughnessFactor=0.9)
    renderer = pyrender.OffscreenRenderer(camera.width, camera.height)
    images = []
    try:
        for index, body in enumerate(points):
            mesh = pyrender.Mesh.from_trimesh(trimesh.Trimesh(body, triangles, process=False), material=material,
                                              smooth=True)
            nodes = [scene.add(mesh)]
            if markers is not None:
                poses = np.tile(np.eye(4), (markers.shape[1], 1, 1))
                poses[:, :3, 3] = markers[index].detach().to("cpu", torch.float64).numpy()
                nodes.append(scene.add(pyrender.Mesh.from_trimesh(ball, material=red, poses=poses)))
            color, _ = renderer.render(scene)
            for node in nodes:
                scene.remove_node(node)
            images.append(color[..., :3].copy())
    finally:
        delete_offscreen_renderer(renderer)
    return torch.from_numpy(np.stack(images)).to(vertices.device)
