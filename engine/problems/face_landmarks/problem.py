"""A face model fitted to 2D landmarks seen by a calibrated perspective camera (learning-to-fit, Sec. 3.3, Eq. 5
and 9, Table 7).

The face model (engine.faces.model) is given to the problem (make_problem's `model`; the shipped default face
when none is): its frame is the camera's (camera.py), metres, +y up, and a face looks towards +z, so a face in
view lies at negative z, facing the camera.

x (B, D), D = 3 + 12 + E + I: the model's translation (metres), the local rotations of its four joints as
axis-angle (neck, head, left and right eye; radians), its E expression activations (in [0, 1] for the data) and
its I identity coefficients (standard normal). x (+) dx composes each rotation with a right increment (its own
frame) and adds the rest.

The observation (B, L, 2) holds the L landmarks in pixels. forward(x) is what the simulated detector reports of
a face at x: the landmarks' projection plus this item's pixel noise (N(0, noise_px^2), drawn per item from
noise_seed, as body-keypoints' detector). The energy reads x and the observation, not the prediction:

    E(x) = sum_l |proj_l(x) - y_l|^2 (pixels^2)                                          (Eq. 5)
           + expression_weight |expression|^2 + identity_weight |identity|^2 + rotation_weight |rotations|^2  (Eq. 9)

Residuals for Gauss-Newton and LM: the 2L pixel errors and the weighted parameters; their Jacobian comes from
forward-mode autodiff (engine.solvers.generic.linearize) through the model restricted to its landmark vertices
(FaceModel.restricted, face_parts), not from an analytic linearisation. The learned fitters read the data term alone
(data_residuals).

Metrics: the reprojection error (px), and with the truth Table 7's V2V of the face region and of the whole head
and the 3D landmark error (mm), each in the camera's frame (absolute: a wrong depth counts) and after Procrustes
alignment (PA: the similarity transform that best maps the estimate onto the truth).
"""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import torch

from ...bodies.metrics import mean_distance_mm, procrustes_aligned_mm
from ...faces.model import JOINT_NAMES, FaceModel, FaceOutput
from ...rotations import retract_rotation_vectors
from ..spec import ArraySpec, ParameterGroup, bounded, check_config
from . import data
from .camera import Intrinsics

NUM_JOINTS = len(JOINT_NAMES)
ROTATIONS = slice(3, 3 + 3 * NUM_JOINTS)
DEFAULT_DISTANCE = 0.7
"""Metres from the camera to the initial estimate's landmark centroid, on the optical axis."""
MAX_ITEMS = 100_000
SURFACE_POINTS = 600
"""About this many face-region vertices make the learned fitters' training surface."""
SURFACE_NEIGHBOURS = 4


@dataclass(frozen=True)
class FaceLandmarksConfig:
    """The camera, the detector's noise, the ground truths' split and the classic solvers' energy."""

    image_width: int = bounded(512, 16, 4096)
    """Width of the image in pixels."""
    image_height: int = bounded(512, 16, 4096)
    """Height of the image in pixels."""
    focal_px: float = bounded(1000.0, 0.0, 100_000.0, low_open=True)
    """Focal length in pixels (square pixels)."""
    principal_x: float = bounded(256.0, 0.0, 4096.0)
    """Principal point's u in pixels from the image's left edge (default: the 512-pixel image's centre)."""
    principal_y: float = bounded(256.0, 0.0, 4096.0)
    """Principal point's v in pixels from the image's top edge (default: the 512-pixel image's centre)."""
    noise_px: float = bounded(1.0, 0.0, 50.0)
    """Standard deviation of the detector's noise per landmark coordinate, pixels."""
    expression_weight: float = bounded(100.0, 0.0, 1e8)
    """Weight of |expression|^2 against the squared landmark error in pixels^2 (Eq. 9)."""
    identity_weight: float = bounded(100.0, 0.0, 1e8)
    """Weight of |identity|^2 against the squared landmark error in pixels^2 (Eq. 9)."""
    rotation_weight: float = bounded(100.0, 0.0, 1e8)
    """Weight of the joints' squared rotation angles (rad^2) against the squared landmark error (Eq. 9)."""
    split: str = "test"
    """Where random ground truths come from: train, val or test (disjoint seeds of the synthetic faces)."""
    noise_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the detector's noise (one draw per item)."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.split not in data.SPLITS:
            raise ValueError(f"--split {self.split!r}: choose one of {', '.join(data.SPLITS)}")
        if self.principal_x > self.image_width or self.principal_y > self.image_height:
            raise ValueError(f"--principal-x/--principal-y ({self.principal_x:g}, {self.principal_y:g}) must lie "
                             f"within the {self.image_width}x{self.image_height} image")

    @property
    def camera(self) -> Intrinsics:
        return Intrinsics(self.focal_px, self.principal_x, self.principal_y, self.image_width, self.image_height)


class Layout(NamedTuple):
    """Where x's parts are, for a face model of E expressions and I identity coefficients."""

    expressions: int
    identity: int

    @property
    def expression(self) -> slice:
        return slice(ROTATIONS.stop, ROTATIONS.stop + self.expressions)

    @property
    def identity_part(self) -> slice:
        return slice(self.expression.stop, self.expression.stop + self.identity)

    @property
    def dimension(self) -> int:
        return self.identity_part.stop


def layout(model: FaceModel) -> Layout:
    return Layout(len(model.expression_names), int(model.identity_count))


def parameter_groups(model: FaceModel) -> tuple[ParameterGroup, ...]:
    """x's groups for a face model: translation, the joints' rotation vectors, expression and identity."""
    return (ParameterGroup("translation", ("translation.x", "translation.y", "translation.z"), "m"),) + tuple(
        ParameterGroup(joint, (f"{joint}.rx", f"{joint}.ry", f"{joint}.rz"), "rad", "rotation-vector")
        for joint in JOINT_NAMES) + (
        ParameterGroup("expression", tuple(model.expression_names), "activation"),
        ParameterGroup("identity", tuple(f"identity{i}" for i in range(model.identity_count)), "sd"))


def observation_spec(landmarks: int) -> ArraySpec:
    return ArraySpec((landmarks, 2), "2D landmarks (u, v) in pixels, u right and v down from the image's top-left "
                     "corner", max_items=MAX_ITEMS)


class FaceParts(NamedTuple):
    """What the problem reads once of a face model: the model on a few of its vertices alone
    (FaceModel.restricted), for the energy and the fitters' training loss, and its mean face at rest."""

    landmarks: FaceModel
    """The model on its landmark vertices: the energy's every evaluation."""
    surface: FaceModel
    """The model on the learned fitters' training surface: about SURFACE_POINTS face-region vertices."""
    edges: torch.Tensor
    """(E, 2) pairs of surface points (each with its SURFACE_NEIGHBOURS nearest at rest)."""
    centre: torch.Tensor
    """(3,) the mean face's landmark centroid with no translation."""


@functools.lru_cache(maxsize=8)
def face_parts(model: FaceModel) -> FaceParts:
    from ...bodies.skinning import nearest_pairs

    region = model.face_region
    surface = region[::max(1, len(region) // SURFACE_POINTS)]
    with torch.no_grad():
        rest = model()
    return FaceParts(model.restricted(model.landmark_vertices), model.restricted(surface),
                     nearest_pairs(rest.vertices[0, surface].cpu(), SURFACE_NEIGHBOURS).to(surface.device),
                     rest.landmarks[0].mean(0))


@functools.lru_cache(maxsize=None)
def default_face(device: torch.device) -> FaceModel:
    """The shipped face model (engine.faces.model.load_face) on a device, in float64, loaded once: float32's last
    bit at 300 pixels is 3e-5 px, and matrix products round differently for different batch sizes, so in float32 an
    item's landmarks would depend on the batch it is solved in; in float64 they are the same once rounded to x's
    float32."""
    from ...faces.model import load_face

    return load_face(dtype=torch.float64, device=device)


def neutral(model: FaceModel, count: int = 1) -> torch.Tensor:
    """(count, D) float32 on the model's device: the mean face, neutral, looking along +z with its landmark centroid
    DEFAULT_DISTANCE in front of the camera on its optical axis."""
    centre = face_parts(model).centre.float()
    x = centre.new_zeros(count, layout(model).dimension)
    x[:, :3] = torch.tensor([0.0, 0.0, -DEFAULT_DISTANCE], device=centre.device) - centre
    return x


@dataclass(frozen=True, eq=False)
class FaceLandmarksProblem:
    """A batch of instances: one face model, the detector's noise for each item."""

    config: FaceLandmarksConfig
    model: FaceModel
    """The face model, on the problem's device."""
    noise: torch.Tensor
    """(B, L, 2) pixels: each item's detector noise."""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def batch_size(self) -> int:
        return len(self.noise)

    @property
    def layout(self) -> Layout:
        return layout(self.model)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(label for group in parameter_groups(self.model) for label in group.labels)

    @property
    def observation_spec(self) -> ArraySpec:
        return observation_spec(len(self.model.landmark_names))

    @property
    def tangent_dim(self) -> int:
        return self.layout.dimension

    @property
    def camera(self) -> Intrinsics:
        return self.config.camera

    @property
    def faces(self) -> torch.Tensor:
        return self.model.faces

    def subset(self, index: torch.Tensor) -> "FaceLandmarksProblem":
        return replace(self, noise=self.noise[index.to(self.noise.device)])

    def check_x(self, x: torch.Tensor) -> None:
        parts = self.layout
        if x.ndim != 2 or x.shape[1] != parts.dimension:
            raise ValueError(f"face-landmarks estimates must have shape (B, {parts.dimension}): translation (3), "
                             f"rotations ({3 * NUM_JOINTS}), expression ({parts.expressions}), identity "
                             f"({parts.identity}); got {tuple(x.shape)}")

    def face(self, x: torch.Tensor, model: FaceModel | None = None) -> FaceOutput:
        """The face model's output (vertices, joints, landmarks) at x in the model's dtype; with `model`, that of
        one of its parts (face_parts)."""
        self.check_x(x)
        parts, model = self.layout, model or self.model
        x = x.to(model.rest_vertices.dtype)
        return model(x[:, parts.identity_part], x[:, parts.expression], x[:, ROTATIONS].reshape(-1, NUM_JOINTS, 3),
                     x[:, :3])

    def projection(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, 2) the landmarks of x in pixels, as the energy sees them, in x's dtype."""
        return self.camera.project(self.face(x, face_parts(self.model).landmarks).vertices).to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, 2) the detector's report of a face at x (module docstring)."""
        return self.projection(x) + self.noise.to(x)

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def data_residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 2L) each landmark's error in pixels: Eq. 5's residuals."""
        return (self.projection(x) - observation.to(x)).flatten(1)

    def regulariser_residuals(self, x: torch.Tensor) -> torch.Tensor:
        """(B, E + I + 12) Eq. 9's weighted expression, identity and rotations."""
        parts, config = self.layout, self.config
        return torch.cat([math.sqrt(config.expression_weight) * x[:, parts.expression],
                          math.sqrt(config.identity_weight) * x[:, parts.identity_part],
                          math.sqrt(config.rotation_weight) * x[:, ROTATIONS]], dim=1)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 2L + E + I + 12): energy == residuals.square().sum(1)."""
        return torch.cat([self.data_residuals(x, observation), self.regulariser_residuals(x)], dim=1)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the energy of x (module docstring); the prediction is not read."""
        return self.residuals(x, observation).square().sum(1)

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,): the mean reprojection error (px) and, with the truth, V2V of the face region and the head
        and the 3D landmark error (mm), absolute and Procrustes-aligned."""
        estimate = self.face(x)
        result = {"reprojection_px": (self.camera.project(estimate.landmarks) - observation.to(estimate.landmarks))
                  .norm(dim=-1).mean(1)}
        if ground_truth is not None:
            truth = self.face(ground_truth.to(x))
            region = self.model.face_region
            for key, points, true_points in (
                    ("v2v_face", estimate.vertices[:, region], truth.vertices[:, region]),
                    ("v2v_head", estimate.vertices, truth.vertices),
                    ("landmark", estimate.landmarks, truth.landmarks)):
                result[f"{key}_mm"] = mean_distance_mm(points, true_points)
                result[f"pa_{key}_mm"] = procrustes_aligned_mm(points, true_points)
        return {key: value.to(x.dtype) for key, value in result.items()}

    def initial_estimate(self) -> torch.Tensor:
        """(B, D): the neutral mean face (neutral), a production LM's start."""
        return neutral(self.model, self.batch_size)

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, D) synthetic faces of the config's split (data.py), framed by the camera."""
        own = data.split_generator(generator, self.config.split)
        count, parts = self.batch_size, self.layout
        x = torch.cat([torch.zeros(count, 3), data.rotations(count, own).flatten(1),
                       data.expressions(count, parts.expressions, own), data.identities(count, parts.identity, own)],
                      dim=1).to(self.device)
        target = data.centres(count, self.camera, own).to(self.device)
        with torch.no_grad():
            x[:, :3] = target - self.face(x, face_parts(self.model).landmarks).vertices.mean(1).to(x)
        return x

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        self.check_x(x)
        self.check_x(dx)
        rotations = retract_rotation_vectors(x[:, ROTATIONS].reshape(-1, NUM_JOINTS, 3),
                                             dx[:, ROTATIONS].reshape(-1, NUM_JOINTS, 3))
        return torch.cat([x[:, :3] + dx[:, :3], rotations.flatten(1), x[:, ROTATIONS.stop:] + dx[:, ROTATIONS.stop:]],
                         dim=1)

    def surface(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, 3) the face region's training surface at x, for the learned fitters' loss."""
        return self.face(x, face_parts(self.model).surface).vertices

    @property
    def surface_edges(self) -> torch.Tensor:
        return face_parts(self.model).edges


def make_problem(config: FaceLandmarksConfig, batch_size: int = 1, device: torch.device | str = "cpu",
                 model: FaceModel | None = None) -> FaceLandmarksProblem:
    """A batch with the detector's noise of the config's seed, on `model` (default: the shipped face)."""
    device = torch.device(device)
    if model is None:
        model = default_face(device)
    elif model.rest_vertices.device.type != device.type:
        model = copy.deepcopy(model).to(device)
    noise = data.pixel_noise(batch_size, len(model.landmark_names), config.noise_px,
                             torch.Generator().manual_seed(config.noise_seed))
    return FaceLandmarksProblem(config, model, noise.to(device), device)
