"""The non-differentiable forward process of illumination problems: a matte mesh lit by one light, with
pyrender's shadow maps, rendered headless.

Three pyrender details are handled here:
- pyrender has no shadows for point lights (its shader raises NotImplementedError). A point light is drawn as a
  spot light aimed at the object whose inner cone holds the object's bounding sphere: pyrender's spot light is a
  point light (intensity / distance^2) inside its inner cone, and that one has shadow maps.
- Mesh.bounds uses np.infty, which NumPy 2 removed; the bounds are set from the vertices at upload instead.
- The material is pyrender's metallic-roughness one at metallic 0, roughness 1: Lambertian up to a Fresnel
  term of about 4 %, which the differentiable renderer (engine.render.lambertian) leaves out, as it leaves out
  the shadows: the forward process is what a torch renderer can only approximate.

All GL work runs on the renderer's own thread (engine.render.gl_thread).
"""
from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..camera import Camera
from .gl_backend import delete_offscreen_renderer, import_pyrender, select_gl_platform
from .gl_thread import content_key, start_scene

LIGHT_KINDS = ("directional", "point")
CONE_MARGIN = math.radians(3.0)
"""The spot light's inner cone is this much wider than the object's bounding sphere, its outer cone wider again."""


@dataclass(frozen=True)
class Lighting:
    """What every item of a render shares: the light's kind and strength, the ambient term and the albedo."""

    kind: str = "directional"
    """'directional' (parallel rays, from the light's position towards its target) or 'point'."""
    intensity: float = 3.0
    """pyrender's light intensity: radiance of a directional light, of a point light at 1 m."""
    ambient: float = 0.1
    """Ambient light, added as ambient * albedo (linear)."""
    albedo: float = 0.8
    """Grey base colour of the matte surface (linear)."""
    shadows: bool = True
    """Shadow maps; without them a render takes about half the time (pictures lit from beside the viewer,
    where shadows hardly show)."""

    def __post_init__(self) -> None:
        if self.kind not in LIGHT_KINDS:
            raise ValueError(f"unknown light kind {self.kind!r}; choose one of {', '.join(LIGHT_KINDS)}")


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(4, 4) pose of a light or camera at `position` whose -z axis points at `target`."""
    backward = position - target
    backward = backward / np.linalg.norm(backward)
    up = np.array([0.0, 1.0, 0.0]) if abs(backward[1]) < 0.99 else np.array([1.0, 0.0, 0.0])
    right = np.cross(up, backward)
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(backward, right), backward, position
    return pose


def spot_cone(distance: float, radius: float) -> tuple[float, float]:
    """Inner and outer cone angles of a spot light `distance` from the centre of a sphere of `radius` whose inner
    cone holds the sphere; ValueError when the light is inside it."""
    if distance <= radius:
        raise ValueError(f"a point light {distance:.3f} m from the object's centre is inside its bounding sphere "
                         f"(radius {radius:.3f} m); place it farther away")
    inner = min(math.asin(radius / distance) + CONE_MARGIN, math.pi / 2 - 2 * CONE_MARGIN)
    return inner, inner + CONE_MARGIN


class _ShadedScene:
    """The pyrender side of the renderer; created, used and deleted only on the GL thread."""

    def __init__(self, camera: Camera, mesh_cache_size: int) -> None:
        pyrender = import_pyrender()
        self._pyrender = pyrender
        self._renderer = pyrender.OffscreenRenderer(camera.width, camera.height)
        self._scene = pyrender.Scene(bg_color=(0.0, 0.0, 0.0, 1.0))
        gl_camera = pyrender.PerspectiveCamera(yfov=camera.fov_y, znear=camera.near, zfar=camera.far,
                                               aspectRatio=camera.aspect)
        self._scene.add(gl_camera, pose=np.eye(4))  # engine.camera's camera space is OpenGL's
        self._cache_size = mesh_cache_size
        self._nodes: OrderedDict[bytes, Any] = OrderedDict()
        self._light_node: Any = None

    def _node(self, key: bytes, vertices: np.ndarray, faces: np.ndarray, albedo: float) -> Any:
        key = key + repr(albedo).encode()
        if key in self._nodes:
            self._nodes.move_to_end(key)
            return self._nodes[key]
        import trimesh

        faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
        material = self._pyrender.MetallicRoughnessMaterial(baseColorFactor=(albedo, albedo, albedo, 1.0),
                                                            metallicFactor=0.0, roughnessFactor=1.0)
        mesh = self._pyrender.Mesh.from_trimesh(trimesh.Trimesh(vertices, faces, process=False), material=material,
                                                smooth=False)
        mesh._bounds = np.stack([vertices.min(axis=0), vertices.max(axis=0)])  # see the module docstring
        mesh.is_visible = False
        node = self._scene.add(mesh)
        self._nodes[key] = node
        while len(self._nodes) > self._cache_size:
            self._scene.remove_node(self._nodes.popitem(last=False)[1])
        return node

    def _light(self, lighting: Lighting, position: np.ndarray, target: np.ndarray, radius: float) -> int:
        """Places the item's light and returns the render flag of its shadows (none without lighting.shadows). The
        light node is kept between renders (a new one would allocate new shadow textures); only a change of kind
        replaces it."""
        pyrender = self._pyrender
        light_class = pyrender.DirectionalLight if lighting.kind == "directional" else pyrender.SpotLight
        if self._light_node is None or not isinstance(self._light_node.light, light_class):
            if self._light_node is not None:
                self._scene.remove_node(self._light_node)
            self._light_node = self._scene.add(light_class(intensity=lighting.intensity))
        light = self._light_node.light
        light.intensity = lighting.intensity
        if lighting.kind == "point":
            inner, outer = spot_cone(float(np.linalg.norm(position - target)), radius)
            light.outerConeAngle = outer  # first: pyrender refuses an inner angle wider than the outer one it has
            light.innerConeAngle = inner
        self._scene.set_pose(self._light_node, look_at(position, target))
        flags = pyrender.RenderFlags
        if not lighting.shadows:
            return flags.NONE
        return flags.SHADOWS_DIRECTIONAL if lighting.kind == "directional" else flags.SHADOWS_SPOT

    def render(self, items: list[tuple[bytes, np.ndarray, np.ndarray]], poses: np.ndarray, lights: np.ndarray,
               targets: np.ndarray, radius: float, lighting: Lighting) -> tuple[np.ndarray, np.ndarray]:
        height, width = self._renderer.viewport_height, self._renderer.viewport_width
        colour = np.zeros((len(items), height, width, 3), dtype=np.uint8)
        depth = np.zeros((len(items), height, width), dtype=np.float32)
        self._scene.ambient_light = np.full(3, lighting.ambient)
        for b, (key, vertices, faces) in enumerate(items):
            node = self._node(key, vertices, faces, lighting.albedo)
            node.mesh.is_visible = True
            self._scene.set_pose(node, poses[b])
            shadow = self._light(lighting, lights[b], targets[b], radius)
            try:
                colour[b], depth[b] = self._renderer.render(self._scene, shadow)
            finally:
                node.mesh.is_visible = False
        return colour, depth

    def delete(self) -> None:
        self._nodes.clear()
        delete_offscreen_renderer(self._renderer)


class PyrenderShadedRenderer:
    """RGB images and depth of a matte mesh lit by one light with shadows, seen by one `Camera`.

    Not differentiable: the forward process of illumination problems. Uploaded meshes are cached by content.
    Calls are served one at a time on the renderer's GL thread; `close()` frees the context."""

    def __init__(self, camera: Camera, mesh_cache_size: int = 8) -> None:
        if not isinstance(camera, Camera):
            raise ValueError(f"camera must be an engine.camera.Camera, got {type(camera).__name__}")
        self.camera = camera
        self.platform = select_gl_platform()
        self._gl, self._scene = start_scene("PyrenderShadedRenderer", self.platform, _ShadedScene, camera,
                                            max(1, mesh_cache_size))
        # Frees the context on the GL thread if the renderer is garbage collected without close().
        self._finalizer = weakref.finalize(self, self._gl.stop, self._scene.delete)

    def render(self, vertices: torch.Tensor, faces: torch.Tensor, object_to_camera: torch.Tensor,
               lights: torch.Tensor, targets: torch.Tensor, radius: float,
               lighting: Lighting = Lighting()) -> tuple[torch.Tensor, torch.Tensor]:
        """Colour (B, H, W, 3) float32 in [0, 1] and view depth (B, H, W) (0 where nothing is drawn).

        vertices (V, 3) or (B, V, 3) and faces (F, 3) or (B, F, 3) in object coordinates; object_to_camera
        (B, 4, 4) rigid; lights (B, 3) the light's position and targets (B, 3) the point it faces, camera space;
        radius: the object's bounding radius around the target (a point light's cone holds that sphere)."""
        batch = object_to_camera.shape[0]
        if object_to_camera.shape[1:] != (4, 4) or lights.shape != (batch, 3) or targets.shape != (batch, 3):
            raise ValueError(f"expected object_to_camera (B, 4, 4), lights and targets (B, 3); got "
                             f"{tuple(object_to_camera.shape)}, {tuple(lights.shape)}, {tuple(targets.shape)}")
        vertex_sets = _per_item(vertices, batch, np.float32, "vertices")
        face_sets = _per_item(faces, batch, np.int64, "faces")
        lights_np = lights.detach().to("cpu", torch.float64).numpy()
        targets_np = targets.detach().to("cpu", torch.float64).numpy()
        if not (np.isfinite(lights_np).all() and np.isfinite(targets_np).all()):
            raise ValueError("light positions contain NaN or infinite values")
        if (np.linalg.norm(lights_np - targets_np, axis=1) < 1e-9).any():
            raise ValueError("a light sits exactly on the point it faces; it has no direction")
        items = [(content_key(v) + content_key(f), v, f) for v, f in zip(vertex_sets, face_sets)]
        poses = object_to_camera.detach().to("cpu", torch.float64).numpy()
        colour, depth = self._gl.call(self._scene.render, items, poses, lights_np, targets_np, radius, lighting)
        device = object_to_camera.device
        return (torch.from_numpy(colour).to(device=device, dtype=torch.float32) / 255.0,
                torch.from_numpy(depth).to(device))

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> "PyrenderShadedRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _per_item(tensor: torch.Tensor, batch: int, dtype: type, name: str) -> list[np.ndarray]:
    """One contiguous array per batch item of a (N, 3) or (B, N, 3) tensor."""
    array = tensor.detach().cpu().numpy().astype(dtype, copy=False)
    if array.ndim == 2:
        return [np.ascontiguousarray(array)] * batch
    if array.ndim != 3 or array.shape[0] != batch:
        raise ValueError(f"{name} must have shape (N, 3) or ({batch}, N, 3), got {tuple(tensor.shape)}")
    return [np.ascontiguousarray(item) for item in array]
