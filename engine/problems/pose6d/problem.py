"""6-DoF object pose from a silhouette (Deep Feedback Inverse Problem Solver, Sec. 4).

x = (unit quaternion (w, x, y, z), translation offset (x, y, z)), shape (B, 7). The object, normalised into
the unit sphere, sits at `distance` in front of the camera (camera space (0, 0, -distance)) and is rotated by
the quaternion about its centre, then moved by the offset. Observations are binary silhouettes rendered by
pyrender; the differentiable rasterizers render the same camera model for the optimizers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence

import torch

from ...camera import Camera
from ...meshes import Mesh, stack_meshes
from ...render.differentiable import rasterize_silhouette
from ...render.forward import shared_silhouette_renderer
from ...rotations import (
    normalize_quaternion,
    quaternion_to_matrix,
    random_axis_angle_quaternions,
    rotation_angle_between,
)
from ...silhouettes import silhouette_difference, silhouette_iou
from ..spec import ArraySpec, bounded, check_config

PARAMETER_NAMES = ("qw", "qx", "qy", "qz", "tx", "ty", "tz")
MAX_IMAGE_SIZE = 2048
"""The largest silhouette side in pixels: one NMR iteration at 2048 px takes seconds, at 8000 px minutes."""
OBSERVATION = ArraySpec(("H", "W"), "a square binary silhouette in [0, 1]", storage="unit-uint8", square=True,
                        max_size=MAX_IMAGE_SIZE)


@dataclass(frozen=True)
class Pose6DConfig:
    """The problem's constants; defaults follow the paper (128 px silhouettes, +-40 degrees, +-0.2 m)."""

    image_size: int = bounded(128, 16, MAX_IMAGE_SIZE, aliases=("--size",))
    """Observation and rendering size in pixels (square)."""
    fov_y_deg: float = bounded(60.0, 1.0, 170.0)
    """Vertical field of view in degrees."""
    distance: float = bounded(2.732, 0.2, 50.0)
    """Distance from the camera to the object's centre at zero offset, metres (NMR's default viewpoint)."""
    max_rotation_deg: float = bounded(40.0, 0.0, 180.0)
    """Ground-truth rotation angle is uniform in [-max, max] about a random axis."""
    max_offset: float = bounded(0.2, 0.0, 2.0)
    """Ground-truth translation offset is uniform in [-max, max] per axis, metres."""
    outlier_translation: float = bounded(0.2, 0.0, 10.0)
    """A solution is an outlier when its translation error exceeds this (metres) ..."""
    outlier_rotation_deg: float = bounded(30.0, 0.0, 180.0)
    """... or its rotation error exceeds this (degrees)."""
    prior_weight: float = bounded(1.0, 0.0, 1e4)
    """Weight of the prior (|q|^2 - 1)^2 that keeps the quaternion on the unit sphere."""

    def __post_init__(self) -> None:
        check_config(self)

    @property
    def camera(self) -> Camera:
        return Camera.square(self.image_size, fov_y=math.radians(self.fov_y_deg))


def parse_pose(text: str) -> torch.Tensor:
    """'qw,qx,qy,qz,tx,ty,tz' to a (1, 7) tensor with the quaternion normalised; ValueError when malformed."""
    try:
        values = [float(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise ValueError(f"pose {text!r} is not 7 comma-separated numbers 'qw,qx,qy,qz,tx,ty,tz'") from None
    if len(values) != 7:
        raise ValueError(f"pose {text!r} has {len(values)} numbers; give 7 finite numbers 'qw,qx,qy,qz,tx,ty,tz'")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"pose {text!r} has a NaN or infinite number; give 7 finite numbers 'qw,qx,qy,qz,tx,ty,tz'")
    pose = torch.tensor([values], dtype=torch.float32)
    if pose[0, :4].norm() < 1e-6:
        raise ValueError(f"pose {text!r} has a zero quaternion; the identity is '1,0,0,0,0,0,0'")
    pose[:, :4] = normalize_quaternion(pose[:, :4])
    return pose


def identity_poses(n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, 7) identity rotations with zero offset: the default initial estimate."""
    x = torch.zeros(n, 7, device=device)
    x[:, 0] = 1.0
    return x


def format_pose(pose: torch.Tensor) -> str:
    """A (7,) pose as 'qw,qx,qy,qz,tx,ty,tz'."""
    return ",".join(f"{float(v):.4f}" for v in pose.reshape(-1))


@dataclass(frozen=True)
class Pose6DProblem:
    """A batch of pose problems, one mesh per item (padded to a common size), on one device."""

    meshes: tuple[Mesh, ...]
    config: Pose6DConfig = Pose6DConfig()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    vertices: torch.Tensor = field(init=False, repr=False)
    """(B, V, 3) the meshes' vertices, padded."""
    faces: torch.Tensor = field(init=False, repr=False)
    """(B, F, 3) the meshes' faces, padded with degenerate (0, 0, 0) faces."""

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = 7
    """x (+) dx is x + dx in the quaternion's ambient coordinates; the energy's prior keeps |q| = 1."""

    def __post_init__(self) -> None:
        if not self.meshes:
            raise ValueError("a pose problem needs at least one mesh")
        vertices, faces, _ = stack_meshes(list(self.meshes))
        # Derived, not passed: set once here (the dataclass is frozen).
        object.__setattr__(self, "vertices", vertices.to(self.device))
        object.__setattr__(self, "faces", faces.to(self.device))

    @classmethod
    def for_meshes(
        cls, meshes: Sequence[Mesh] | Mesh, batch_size: int | None = None, config: Pose6DConfig = Pose6DConfig(),
        device: torch.device | str = "cpu",
    ) -> "Pose6DProblem":
        """One mesh repeated batch_size times, or one problem per mesh."""
        if isinstance(meshes, Mesh):
            meshes = [meshes] * (batch_size or 1)
        return cls(tuple(meshes), config, torch.device(device))

    @property
    def batch_size(self) -> int:
        return len(self.meshes)

    @property
    def camera(self) -> Camera:
        return self.config.camera

    def subset(self, index: torch.Tensor) -> "Pose6DProblem":
        """The problems at the given batch indices."""
        return replace(self, meshes=tuple(self.meshes[int(i)] for i in index.tolist()))

    def _check_x(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != 7:
            raise ValueError(f"pose6d estimates must have shape (B, 7) as (qw,qx,qy,qz,tx,ty,tz), got {tuple(x.shape)}")
        if x.shape[0] != self.batch_size:
            raise ValueError(f"{x.shape[0]} estimates for a batch of {self.batch_size} problems")

    def object_to_camera(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4, 4) rigid transforms from object to camera space."""
        self._check_x(x)
        transform = torch.zeros(x.shape[0], 4, 4, dtype=x.dtype, device=x.device)
        transform[:, :3, :3] = quaternion_to_matrix(x[:, :4])
        transform[:, :3, 3] = x[:, 4:] - x.new_tensor([0.0, 0.0, self.config.distance])
        transform[:, 3, 3] = 1.0
        return transform

    def camera_vertices(self, x: torch.Tensor) -> torch.Tensor:
        """(B, V, 3) mesh vertices in camera space, differentiable w.r.t. x."""
        transform = self.object_to_camera(x)
        return self.vertices.to(x) @ transform[:, :3, :3].transpose(1, 2) + transform[:, None, :3, 3]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The forward process: binary silhouettes (B, H, W) from pyrender (not differentiable)."""
        renderer = shared_silhouette_renderer(self.camera)
        return renderer.render(self.vertices, self.faces, self.object_to_camera(x.detach())).to(x.device)

    def forward_differentiable(self, x: torch.Tensor, rasterizer: str = "nmr", **options: float) -> torch.Tensor:
        """Silhouettes (B, H, W) from a torch rasterizer ('nmr' or 'softras'), differentiable w.r.t. x."""
        uv, depth = self.camera.project(self.camera_vertices(x))
        return rasterize_silhouette(rasterizer, uv, depth, self.faces.to(x.device), self.camera, **options)

    def energy(self, rendering: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) squared silhouette difference (mean per pixel) plus the unit-quaternion prior."""
        prior = (x[:, :4].square().sum(1) - 1.0).square()
        return silhouette_difference(rendering, observation) + self.config.prior_weight * prior

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx

    def initial_estimate(self) -> torch.Tensor:
        """Identity rotation, zero offset: (B, 7)."""
        return identity_poses(self.batch_size, self.device)

    def sample_ground_truth(
        self, generator: torch.Generator, rotation_range_deg: tuple[float, float] | None = None
    ) -> torch.Tensor:
        """(B, 7) poses: axis uniform on the sphere, angle uniform in +-range, offset uniform in +-max_offset."""
        low, high = rotation_range_deg or (0.0, self.config.max_rotation_deg)
        quaternion = random_axis_angle_quaternions(self.batch_size, low, high, generator)
        offset = (torch.rand(self.batch_size, 3, generator=generator) * 2.0 - 1.0) * self.config.max_offset
        return torch.cat([quaternion, offset], dim=1).to(self.device)

    def metrics(
        self, x: torch.Tensor, rendering: torch.Tensor, observation: torch.Tensor, ground_truth: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """Per item (B,): silhouette IoU; with ground truth also translation error (m), rotation error (deg) and
        the outlier flag (translation error > 0.2 or rotation error > 30 deg by default)."""
        result = {"iou": silhouette_iou(rendering, observation)}
        if ground_truth is not None:
            translation = (x[:, 4:] - ground_truth[:, 4:]).norm(dim=1)
            rotation = torch.rad2deg(rotation_angle_between(x[:, :4], ground_truth[:, :4]))
            result["translation_error"] = translation
            result["rotation_error_deg"] = rotation
            result["outlier"] = (
                (translation > self.config.outlier_translation) | (rotation > self.config.outlier_rotation_deg)
            ).float()
        return result
