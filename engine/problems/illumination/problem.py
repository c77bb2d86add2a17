"""Illumination estimation (Deep Feedback Inverse Problem Solver, Sec. 5): the light's position from one RGB
image of a known object.

x = the light's position (B, 3) in the light frame: origin at the object's centre, axes those of the camera
(+z towards the camera). Ground truth lies on the half unit sphere on the camera side (z > 0). A directional
light shines from x towards the origin (only its direction is observable); a point light sits at x and falls
off as 1 / distance^2. The object, a mesh normalised into a sphere of `object_radius`, sits `distance` in front
of the camera, rotated per item. The forward process is pyrender with shadows (engine.render.pyrender_shaded);
forward_differentiable the NMR-style Lambertian renderer of the same surface (engine.render.lambertian),
without shadows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import torch

from ...camera import Camera
from ...meshes import Mesh, stack_meshes
from ...render.forward import shared_shaded_renderer
from ...render.lambertian import Surface, shade, visible_surface
from ...render.pyrender_shaded import LIGHT_KINDS, Lighting
from ...rotations import quaternion_to_matrix
from ..spec import ArraySpec, bounded, check_config

PARAMETER_NAMES = ("lx", "ly", "lz")
MAX_IMAGE_SIZE = 1024
"""The largest image side: a pyrender shadow render at 1024 px takes about 0.1 s on a 2-core CPU."""
OBSERVATION = ArraySpec(("H", "W", 3), "a square RGB image in [0, 1]", storage="unit-uint8", square=True,
                        max_size=MAX_IMAGE_SIZE)
LIGHT_CLEARANCE = 1.1
"""A light must be farther than this many object radii from the object's centre (outside the object)."""


@dataclass(frozen=True)
class IlluminationConfig:
    """The problem's constants: the light model, the camera, the object's placement and the shading."""

    light: str = "directional"
    """The light's kind: directional (from x towards the object) or point (at x)."""
    image_size: int = bounded(256, 32, MAX_IMAGE_SIZE, aliases=("--size",))
    """Observation and rendering size in pixels (square; the paper's 256)."""
    fov_y_deg: float = bounded(60.0, 5.0, 150.0)
    """Vertical field of view in degrees."""
    distance: float = bounded(1.25, 0.3, 50.0)
    """Distance from the camera to the object's centre, metres."""
    object_radius: float = bounded(0.5, 0.01, 0.9)
    """The object is scaled to fit a sphere of this radius, metres (inside the unit sphere the lights lie on)."""
    object_yaw_deg: float = bounded(30.0, -180.0, 180.0)
    """The object's rotation about the camera's vertical axis, degrees (benchmark and training draw their own)."""
    object_pitch_deg: float = bounded(20.0, -90.0, 90.0)
    """The object's rotation about the camera's horizontal axis after the yaw, degrees."""
    intensity: float = bounded(3.0, 0.01, 100.0)
    """Light intensity (pyrender's: a directional light's radiance; a point light's at 1 m)."""
    ambient: float = bounded(0.1, 0.0, 1.0)
    """Ambient light (linear)."""
    albedo: float = bounded(0.8, 0.01, 1.0)
    """Grey albedo of the matte object (linear)."""
    outlier_distance: float = bounded(0.35, 0.0, 10.0)
    """An estimate is an outlier when it is farther than this from the true light (0.35: a 20 degree arc on the
    unit sphere)."""
    prior_weight: float = bounded(0.01, 0.0, 1e4)
    """Weight of the prior (|x| - 1)^2 that keeps the light on the unit sphere."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.light not in LIGHT_KINDS:
            raise ValueError(f"--light {self.light!r}: choose one of {', '.join(LIGHT_KINDS)}")

    @property
    def camera(self) -> Camera:
        return Camera.square(self.image_size, fov_y=math.radians(self.fov_y_deg))

    def lighting(self, kind: str | None = None) -> Lighting:
        return Lighting(kind or self.light, self.intensity, self.ambient, self.albedo)

    @property
    def min_light_distance(self) -> float:
        return LIGHT_CLEARANCE * self.object_radius


def object_rotation(config: IlluminationConfig) -> torch.Tensor:
    """(3, 3) the config's object rotation: yaw about the camera's y axis, then pitch about its x axis."""
    yaw, pitch = math.radians(config.object_yaw_deg), math.radians(config.object_pitch_deg)
    about_y = torch.tensor([[math.cos(yaw), 0.0, math.sin(yaw)], [0.0, 1.0, 0.0], [-math.sin(yaw), 0.0, math.cos(yaw)]])
    about_x = torch.tensor([[1.0, 0.0, 0.0], [0.0, math.cos(pitch), -math.sin(pitch)],
                            [0.0, math.sin(pitch), math.cos(pitch)]])
    return about_x @ about_y


def random_rotations(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3, 3) rotations uniform over SO(3) (normalised 4-D Gaussian quaternions)."""
    return quaternion_to_matrix(torch.nn.functional.normalize(torch.randn(n, 4, generator=generator), dim=1))


def check_light(light: torch.Tensor, config: IlluminationConfig, name: str = "light") -> None:
    """ValueError (one line) for a light position that is not (B, 3) finite numbers outside the object."""
    if light.ndim != 2 or light.shape[1] != 3:
        raise ValueError(f"{name}: a light position is 3 numbers 'x,y,z', got shape {tuple(light.shape)}")
    if not bool(torch.isfinite(light).all()):
        raise ValueError(f"{name}: the light position has a NaN or infinite coordinate")
    distance = float(light.norm(dim=1).min())
    if distance <= config.min_light_distance:
        raise ValueError(f"{name}: a light {distance:.3f} m from the object's centre is inside the object (its "
                         f"bounding radius is {config.object_radius} m); place it farther than "
                         f"{config.min_light_distance:.3f} m, e.g. on the unit sphere")


def parse_light(text: str, config: IlluminationConfig | None = None) -> torch.Tensor:
    """'x,y,z' to a (1, 3) light position; ValueError when malformed or inside the object."""
    try:
        values = [float(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise ValueError(f"light {text!r} is not 3 comma-separated numbers 'x,y,z'") from None
    if len(values) != 3:
        raise ValueError(f"light {text!r} has {len(values)} numbers; give 3, 'x,y,z'")
    light = torch.tensor([values], dtype=torch.float32)
    check_light(light, config or IlluminationConfig(), f"light {text!r}")
    return light


def hemisphere_lights(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3) positions uniform on the half unit sphere on the camera side (z > 0)."""
    direction = torch.nn.functional.normalize(torch.randn(n, 3, generator=generator), dim=1)
    return torch.cat([direction[:, :2], direction[:, 2:].abs()], dim=1)


@dataclass(frozen=True, eq=False)
class IlluminationProblem:
    """A batch of light estimation problems: one mesh and one object rotation per item, on one device."""

    meshes: tuple[Mesh, ...]
    rotations: torch.Tensor
    """(B, 3, 3) each item's object rotation (object to light frame)."""
    config: IlluminationConfig = IlluminationConfig()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    vertices: torch.Tensor = field(init=False, repr=False)
    """(B, V, 3) the meshes' vertices in the light frame (scaled and rotated), padded."""
    faces: torch.Tensor = field(init=False, repr=False)
    """(B, F, 3) the meshes' faces, padded with degenerate (0, 0, 0) faces."""
    _surface: dict[str, Surface] = field(init=False, repr=False, default_factory=dict)

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = 3

    def __post_init__(self) -> None:
        if not self.meshes:
            raise ValueError("an illumination problem needs at least one mesh")
        if self.rotations.shape != (len(self.meshes), 3, 3):
            raise ValueError(f"expected {len(self.meshes)} object rotations (B, 3, 3), got "
                             f"{tuple(self.rotations.shape)}")
        vertices, faces, _ = stack_meshes(list(self.meshes))
        placed = self.config.object_radius * vertices @ self.rotations.to(vertices).transpose(1, 2)
        # Derived, not passed: set once here (the dataclass is frozen).
        object.__setattr__(self, "vertices", placed.to(self.device))
        object.__setattr__(self, "faces", faces.to(self.device))

    @classmethod
    def for_meshes(cls, meshes: Sequence[Mesh] | Mesh, rotations: torch.Tensor | None = None,
                   config: IlluminationConfig = IlluminationConfig(), device: torch.device | str = "cpu",
                   batch_size: int | None = None) -> "IlluminationProblem":
        """One mesh repeated batch_size times, or one problem per mesh; rotations default to the config's."""
        if isinstance(meshes, Mesh):
            meshes = [meshes] * (batch_size or 1)
        if rotations is None:
            rotations = object_rotation(config).expand(len(meshes), 3, 3).clone()
        return cls(tuple(meshes), rotations.float().cpu(), config, torch.device(device))

    @property
    def batch_size(self) -> int:
        return len(self.meshes)

    @property
    def camera(self) -> Camera:
        return self.config.camera

    @property
    def centre(self) -> torch.Tensor:
        """(3,) the object's centre in camera space."""
        return torch.tensor([0.0, 0.0, -self.config.distance], device=self.device)

    def subset(self, index: torch.Tensor) -> "IlluminationProblem":
        index = index.cpu()
        subset = replace(self, meshes=tuple(self.meshes[int(i)] for i in index.tolist()),
                         rotations=self.rotations[index])
        if "surface" in self._surface:  # the visibility carries over
            subset._surface["surface"] = self._surface["surface"].subset(index.to(self.device))
        return subset

    def _check_x(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"illumination estimates must have shape (B, 3) as (lx, ly, lz), got {tuple(x.shape)}")
        if x.shape[0] != self.batch_size:
            raise ValueError(f"{x.shape[0]} estimates for a batch of {self.batch_size} problems")

    def placed_lights(self, x: torch.Tensor) -> torch.Tensor:
        """The lights an estimate renders with: an estimate inside the object's bounding sphere (an optimizer's
        or network's step can land there) is moved out along its direction, to min_light_distance."""
        distance = x.norm(dim=1, keepdim=True)
        towards_camera = torch.zeros_like(x)
        towards_camera[:, 2] = 1.0
        direction = torch.where(distance > 1e-9, x / distance.clamp(min=1e-9), towards_camera)
        return torch.where(distance < self.config.min_light_distance,
                           direction * self.config.min_light_distance, x)

    def render(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pyrender's colour (B, H, W, 3) and view depth (B, H, W) with the light at x (not differentiable)."""
        self._check_x(x)
        transform = torch.eye(4).repeat(self.batch_size, 1, 1)
        transform[:, 2, 3] = -self.config.distance
        centre = self.centre.cpu().expand(self.batch_size, 3)
        lights = self.placed_lights(x.detach().cpu().float()) + centre
        renderer = shared_shaded_renderer(self.camera)
        colour, depth = renderer.render(self.vertices.cpu(), self.faces.cpu(), transform, lights, centre,
                                        self.config.object_radius, self.config.lighting())
        return colour.to(x.device), depth.to(x.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The forward process: pyrender's RGB image (B, H, W, 3) with shadows, light at x."""
        return self.render(x)[0]

    def surface(self) -> Surface:
        """The visible surface per pixel, computed once (the geometry is fixed)."""
        if "surface" not in self._surface:
            self._surface["surface"] = visible_surface(self.vertices + self.centre.to(self.vertices), self.faces,
                                                       self.camera)
        return self._surface["surface"]

    def forward_differentiable(self, x: torch.Tensor, light: str | None = None) -> torch.Tensor:
        """The NMR-style render (B, H, W, 3): Lambertian, no shadows, with the `light` kind given (default: the
        problem's); differentiable with respect to x."""
        self._check_x(x)
        centre = self.centre.to(x)
        return shade(self.surface(), self.placed_lights(x) + centre, centre.expand(len(x), 3),
                     self.config.lighting(light))

    def energy(self, rendering: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) mean squared image difference plus the prior keeping the light on the unit sphere."""
        difference = (rendering - observation).square().flatten(1).mean(dim=1)
        return difference + self.config.prior_weight * (x.norm(dim=1) - 1.0).square()

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx

    def initial_estimate(self) -> torch.Tensor:
        """The light at the camera's side of the unit sphere, (0, 0, 1): the centre of the lights' hemisphere."""
        x = torch.zeros(self.batch_size, 3, device=self.device)
        x[:, 2] = 1.0
        return x

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 3) uniform on the half unit sphere on the camera side."""
        return hemisphere_lights(self.batch_size, generator).to(self.device)

    def metrics(self, x: torch.Tensor, rendering: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,): image RMSE; with ground truth the MSE of the light's position (mean over its three
        coordinates), the angle between the estimated and the true light direction and the outlier flag."""
        result = {"image_rmse": (rendering - observation).square().flatten(1).mean(dim=1).sqrt()}
        if ground_truth is not None:
            result["mse"] = (x - ground_truth).square().mean(dim=1)
            cosine = torch.nn.functional.cosine_similarity(x, ground_truth, dim=1, eps=1e-9)
            result["angle_error_deg"] = torch.rad2deg(torch.arccos(cosine.clamp(-1.0, 1.0)))
            result["outlier"] = ((x - ground_truth).norm(dim=1) > self.config.outlier_distance).float()
        return result


def make_problem(config: IlluminationConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
                 batch_size: int | None = None) -> IlluminationProblem:
    """The spec's `make`: the loaded mesh (or the built-in object) at the config's rotation."""
    from .meshes import resolve_lit_mesh

    mesh = inputs.get("mesh") or resolve_lit_mesh(None)
    return IlluminationProblem.for_meshes(mesh, config=config, device=device, batch_size=batch_size)
