"""The non-differentiable forward process: hard silhouettes rendered with pyrender (OpenGL, headless).

Two pyrender behaviours are worked around here (both measured, see the tests):
- With RenderFlags.DEPTH_ONLY pyrender always culls back faces, whatever the material says. A closed,
  consistently wound mesh loses nothing (every ray that hits it crosses it once each way); any other mesh is
  uploaded with every face twice, once per winding, so open or inconsistently wound meshes have no holes.
- On EGL pyrender draws into a 4x multisampled framebuffer, and the depth resolve then marks edge pixels by
  one sample instead of the pixel centre (about 5% of a random triangle's pixels disagreed). RenderFlags.SEG
  turns multisampling off, so a pixel is covered exactly when its centre is, as in engine.camera, and EGL and
  OSMesa agree.

All GL work runs on one daemon thread per renderer, because a GL context belongs to the thread that made it.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

import numpy as np
import torch

from engine.camera import Camera
from engine.render.gl_thread import content_key, start_scene
from engine.render.gl_backend import delete_offscreen_renderer, import_pyrender, select_gl_platform

class _SilhouetteScene:
    """The pyrender side of the renderer; created, used and deleted only on the GL thread."""

    def __init__(self, camera: Camera, mesh_cache_size: int) -> None:
        pyrender = import_pyrender()
        self._pyrender = pyrender
        self._flags = pyrender.RenderFlags.DEPTH_ONLY | pyrender.RenderFlags.SEG
        self._renderer = pyrender.OffscreenRenderer(camera.width, camera.height)
        self._scene = pyrender.Scene()
        gl_camera = pyrender.PerspectiveCamera(
            yfov=camera.fov_y, znear=camera.near, zfar=camera.far, aspectRatio=camera.aspect
        )
        self._scene.add(gl_camera, pose=np.eye(4))  # engine.camera's camera space is OpenGL's
        self._cache_size = mesh_cache_size
        self._nodes: OrderedDict[bytes, Any] = OrderedDict()  # content key -> mesh node, least recent first
        self.uploads = 0

    def _node(self, key: bytes, vertices: np.ndarray, faces: np.ndarray) -> Any | None:
        """The scene node drawing this mesh, uploaded on first use; None when it has no drawable face."""
        if key in self._nodes:
            self._nodes.move_to_end(key)
            return self._nodes[key]
        # Padding (0, 0, 0) and any face repeating a vertex has no area and would draw nothing anyway.
        keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
        faces = faces[keep]
        if len(faces) == 0:
            return None
        if not _closed_and_oriented(faces, len(vertices)):
            faces = np.concatenate([faces, faces[:, ::-1]])
        primitive = self._pyrender.Primitive(
            positions=vertices.copy(), indices=faces.astype(np.uint32), mode=self._pyrender.constants.GLTF.TRIANGLES
        )
        node = self._scene.add(self._pyrender.Mesh([primitive], is_visible=False))
        self._nodes[key] = node
        self.uploads += 1
        return node

    def _evict(self) -> None:
        # A removed mesh's GL buffers are freed by pyrender at the next render.
        while len(self._nodes) > self._cache_size:
            _, node = self._nodes.popitem(last=False)
            self._scene.remove_node(node)

    def render(self, items: list[tuple[bytes, np.ndarray, np.ndarray]], poses: np.ndarray) -> np.ndarray:
        """(B, H, W) bool silhouettes; items[b] = (key, vertices, faces) of batch item b, poses (B, 4, 4)."""
        height, width = self._renderer.viewport_height, self._renderer.viewport_width
        out = np.zeros((len(items), height, width), dtype=bool)
        for b, (key, vertices, faces) in enumerate(items):
            node = self._node(key, vertices, faces)
            if node is not None:
                # Only this node draws: SEG skips nodes missing from seg_node_map, and the others are hidden too.
                node.mesh.is_visible = True
                self._scene.set_pose(node, poses[b])
                try:
                    depth = self._renderer.render(self._scene, self._flags, seg_node_map={node: (255, 255, 255)})
                finally:
                    node.mesh.is_visible = False
                out[b] = depth > 0
            self._evict()
        return out

    def delete(self) -> None:
        """Frees the GL objects and the context (without eglTerminate, see delete_offscreen_renderer)."""
        self._nodes.clear()
        delete_offscreen_renderer(self._renderer)


def _check_tensor(name: str, value: Any) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def _closed_and_oriented(faces: np.ndarray, n_vertices: int) -> bool:
    """True when every directed edge occurs once and so does its reverse: a closed, consistently wound mesh."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    forward = np.sort(edges[:, 0] * n_vertices + edges[:, 1])
    if (forward[1:] == forward[:-1]).any():
        return False
    return bool(np.array_equal(forward, np.sort(edges[:, 1] * n_vertices + edges[:, 0])))


class PyrenderSilhouetteRenderer:
    """Hard {0, 1} silhouettes of triangle meshes seen by one `Camera`, rendered with pyrender.

    Not differentiable: it is the forward process f that produces observations and the reference that the
    torch rasterizers are checked against. Uploaded meshes are cached by content (LRU, `mesh_cache_size`
    entries), so rendering the same mesh under new poses only changes a node pose. Safe to call from several
    threads; calls are served one at a time on the renderer's own GL thread. Call `close()` (or use `with`)
    to free the GL context.
    """

    def __init__(self, camera: Camera, mesh_cache_size: int = 8) -> None:
        if not isinstance(camera, Camera):
            raise ValueError(f"camera must be an engine.camera.Camera, got {type(camera).__name__}")
        if mesh_cache_size < 0:
            raise ValueError(f"mesh_cache_size must be >= 0, got {mesh_cache_size}")
        self.camera = camera
        self.platform = select_gl_platform()
        """The headless OpenGL platform in use: 'egl' or 'osmesa'."""
        self._gl, self._scene = start_scene("PyrenderSilhouetteRenderer", self.platform, _SilhouetteScene, camera,
                                            mesh_cache_size)
        # Frees the context on the GL thread if the renderer is garbage collected without close().
        self._finalizer = weakref.finalize(self, self._gl.stop, self._scene.delete)

    @property
    def closed(self) -> bool:
        return self._gl.stopped

    @property
    def mesh_uploads(self) -> int:
        """How many meshes were uploaded to the GL context so far (cache misses)."""
        return self._scene.uploads

    def render(self, vertices: torch.Tensor, faces: torch.Tensor, object_to_camera: torch.Tensor) -> torch.Tensor:
        """Silhouettes (B, H, W) float32 in {0, 1}, on object_to_camera's device.

        vertices (V, 3) or (B, V, 3) in object coordinates; faces (F, 3) or (B, F, 3) vertex indices, where
        degenerate padding faces such as (0, 0, 0) draw nothing; object_to_camera (B, 4, 4) transforms taking
        object coordinates to camera space (rigid in practice; any affine map with last row (0, 0, 0, 1) works).
        A pixel is covered when its centre is; geometry outside [near, far] is clipped.
        """
        if self.closed:
            raise RuntimeError(f"{self._gl.name} is closed; create a new renderer")
        vertices = _check_tensor("vertices", vertices)
        faces = _check_tensor("faces", faces)
        object_to_camera = _check_tensor("object_to_camera", object_to_camera)
        if object_to_camera.ndim != 3 or object_to_camera.shape[1:] != (4, 4):
            raise ValueError(f"object_to_camera must have shape (B, 4, 4), got {tuple(object_to_camera.shape)}")
        batch = object_to_camera.shape[0]
        if vertices.ndim not in (2, 3) or vertices.shape[-1] != 3:
            raise ValueError(f"vertices must have shape (V, 3) or (B, V, 3), got {tuple(vertices.shape)}")
        if faces.ndim not in (2, 3) or faces.shape[-1] != 3:
            raise ValueError(f"faces must have shape (F, 3) or (B, F, 3), got {tuple(faces.shape)}")
        for name, tensor in (("vertices", vertices), ("faces", faces)):
            if tensor.ndim == 3 and tensor.shape[0] != batch:
                raise ValueError(
                    f"{name} has batch size {tensor.shape[0]} but object_to_camera has {batch}: "
                    f"got {name} {tuple(tensor.shape)}, object_to_camera {tuple(object_to_camera.shape)}"
                )
        if not vertices.is_floating_point():
            raise ValueError(f"vertices must be floating point, got {vertices.dtype}")
        if faces.is_floating_point() or faces.is_complex() or faces.dtype == torch.bool:
            raise ValueError(f"faces must be an integer tensor, got {faces.dtype}")

        vertices_np = vertices.detach().to("cpu", torch.float32).contiguous().numpy()
        faces_np = faces.detach().to("cpu", torch.int64).contiguous().numpy()
        poses = object_to_camera.detach().to("cpu", torch.float64).numpy()
        n_vertices = vertices_np.shape[-2]
        if not np.isfinite(vertices_np).all():
            raise ValueError("vertices contain NaN or infinite values")
        if faces_np.size and (faces_np.min() < 0 or faces_np.max() >= n_vertices):
            raise ValueError(
                f"faces index vertices in [{faces_np.min()}, {faces_np.max()}] but there are {n_vertices} vertices"
            )
        if not np.isfinite(poses).all():
            raise ValueError("object_to_camera contains NaN or infinite values")
        if not np.allclose(poses[:, 3, :], [0.0, 0.0, 0.0, 1.0], atol=1e-6):
            raise ValueError("object_to_camera must have last row (0, 0, 0, 1): rigid object-to-camera transforms")

        vertex_sets = list(vertices_np) if vertices_np.ndim == 3 else [vertices_np]
        face_sets = list(faces_np) if faces_np.ndim == 3 else [faces_np]
        vertex_keys = [content_key(v) for v in vertex_sets]
        face_keys = [content_key(f) for f in face_sets]
        items = []
        for b in range(batch):
            iv, jf = (b if len(vertex_sets) > 1 else 0), (b if len(face_sets) > 1 else 0)
            items.append((vertex_keys[iv] + face_keys[jf], vertex_sets[iv], face_sets[jf]))

        silhouettes = self._gl.call(self._scene.render, items, poses) if batch else np.zeros(
            (0, self.camera.height, self.camera.width), dtype=bool
        )
        return torch.from_numpy(silhouettes).to(device=object_to_camera.device, dtype=torch.float32)

    def close(self) -> None:
        """Deletes the GL context on its thread and stops the thread; later renders raise RuntimeError."""
        self._finalizer()

    def __enter__(self) -> PyrenderSilhouetteRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.platform
        return f"PyrenderSilhouetteRenderer({self.camera}, {state})"
