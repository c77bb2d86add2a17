"""SMPL fitted to 2D keypoints through a weak-perspective camera (learning-to-fit, Sec. 3.2; LGD's setup).

x (B, 85): the root's and the 23 body joints' local rotations as axis-angle (72, SMPL's pose), 10 shape
coefficients (betas) and the camera (scale, tx, ty). x (+) dx composes each rotation with a right increment
(its own frame) and adds the rest. A keypoint projects as (u, v) = scale (X, Y) + (tx, ty): crop coordinates in
[-1, 1] with v up, so that pixels of the config's image_size are image_size / 2 crop units each.

Keypoints (KEYPOINT_NAMES): SMPL's 24 joints, then smplx's face and feet landmarks (nose, eyes, ears, big and
small toes, heels) from the body's landmark vertices. The observation (B, 35, 3) holds each keypoint's (u, v) and
the detector's confidence (0: not detected). forward(x) is what the simulated detector (data.py) reports of a
body at x: the projection plus this item's noise and outliers, with its confidences; the energy reads x and the
observation, not the prediction:

    E(x) = sum_k c_k |proj_k(x) - y_k|^2 (pixels^2) + prior_weight * GMM(pose) + shape_weight * |betas|^2

with the SMPLify-style Gaussian mixture on the body pose (engine.bodies.pose_prior, fitted on the training
poses). The learned fitters read the data term alone (data_residuals).

Metrics: the reprojection error (px, detected keypoints), and with the truth MPJPE and PA-MPJPE of the 24 joints
and V2V of the mesh (mm; MPJPE and V2V with both pelvises at the origin).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace

import torch

from ...bodies.metrics import procrustes_aligned_mm, root_aligned_mm
from ...bodies.skeleton import JOINT_NAMES, LANDMARK_NAMES, NUM_JOINTS, PARENTS
from ...rotations import axis_angle_to_matrix, matrix_to_axis_angle, retract_rotation_vectors, right_jacobian_inverse
from ..body_shared import shared_body
from ..spec import ArraySpec, bounded, check_config
from . import data

LANDMARKS = LANDMARK_NAMES[:11]
"""Face and feet: smplx's extra joints before the fingertips."""
KEYPOINT_NAMES = JOINT_NAMES + LANDMARKS
_LANDMARK_PARENTS = {"nose": "head", "reye": "nose", "leye": "nose", "rear": "reye", "lear": "leye",
                     "LBigToe": "left_foot", "LSmallToe": "left_foot", "LHeel": "left_ankle",
                     "RBigToe": "right_foot", "RSmallToe": "right_foot", "RHeel": "right_ankle"}
KEYPOINT_PARENTS = PARENTS + tuple(KEYPOINT_NAMES.index(_LANDMARK_PARENTS[name]) for name in LANDMARKS)
"""The keypoint each keypoint's drawn bone starts from (-1: none)."""
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
NUM_BETAS = 10
MODEL_TYPE = "smpl"
"""The body model format the problem fits (24 posable joints)."""
POSE_DIM = 3 * NUM_JOINTS
X_DIM = POSE_DIM + NUM_BETAS + 3
PARAMETER_NAMES = tuple(f"{joint}.{axis}" for joint in JOINT_NAMES for axis in ("rx", "ry", "rz")) + tuple(
    f"beta{i}" for i in range(NUM_BETAS)) + ("camera.scale", "camera.tx", "camera.ty")
MAX_ITEMS = 100_000
OBSERVATION = ArraySpec((NUM_KEYPOINTS, 3), "2D keypoints (u, v) in crop coordinates [-1, 1], v up, and the "
                        "detector's confidence in [0, 1] (0: not detected)", max_items=MAX_ITEMS)
SPLITS = ("train", "val", "test", "cmu")
DEFAULT_SCALE = sum(data.SCALE_RANGE) / 2


@dataclass(frozen=True)
class BodyKeypointsConfig:
    """The detector's simulation, the ground truths' source and the classic solvers' energy."""

    image_size: int = bounded(224, 16, 4096)
    """Side of the square crop in pixels: the unit of the noise, the outliers and the energy."""
    noise_px: float = bounded(2.0, 0.0, 50.0)
    """Standard deviation of the detector's noise per keypoint coordinate, pixels."""
    outlier_rate: float = bounded(0.03, 0.0, 0.5)
    """Share of keypoints the detector places 20-60 px off with full confidence."""
    drop_rate: float = bounded(0.1, 0.0, 0.9)
    """Share of keypoints the detector misses (confidence 0)."""
    max_yaw_deg: float = bounded(180.0, 0.0, 180.0)
    """Ground truths turn about the vertical within +-this (180: any way; 0: facing the camera)."""
    prior_weight: float = bounded(4.0, 0.0, 1e6)
    """Weight of the Gaussian-mixture pose prior against the squared keypoint error in pixels^2."""
    shape_weight: float = bounded(5.0, 0.0, 1e6)
    """Weight of |betas|^2 against the squared keypoint error in pixels^2."""
    split: str = "test"
    """Where random ground-truth poses come from: train, val, test (joint-limit sampler) or cmu (motion capture)."""
    detector_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the detector's noise, outliers and drops (one draw per item)."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.split not in SPLITS:
            raise ValueError(f"--split {self.split!r}: choose one of {', '.join(SPLITS)}")


SURFACE_STRIDE = 4
"""The learned fitters' training loss compares every 4th mesh vertex (a quarter of the skinning's cost)."""
SURFACE_NEIGHBOURS = 4


def _body(path: str | None):
    return shared_body(path, MODEL_TYPE)


@functools.lru_cache(maxsize=1)
def _prior():
    from ...bodies.pose_prior import PosePrior

    return PosePrior.load()


def _skinning(path: str | None, vertices: str, like: torch.Tensor):
    """The body's skinning of its 'landmarks', its training 'surface' (every SURFACE_STRIDE-th vertex) or 'all',
    on the device and in the dtype of `like`."""
    return _placed_skinning(path, vertices, like.device, like.dtype)


@functools.lru_cache(maxsize=None)
def _placed_skinning(path: str | None, vertices: str, device: torch.device, dtype: torch.dtype):
    from ...bodies.skinning import Skinning

    body = _body(path)
    ids = {"landmarks": body.layer.vertex_joint_selector.extra_joints_idxs[:len(LANDMARKS)],
           "surface": torch.arange(0, body.num_vertices, SURFACE_STRIDE), "all": None}[vertices]
    return Skinning(body, ids).to(device, dtype)


@functools.lru_cache(maxsize=None)
def _surface_edges(path: str | None) -> torch.Tensor:
    """(E, 2) pairs of surface vertices, each with its SURFACE_NEIGHBOURS nearest at rest: the training surface's
    edges."""
    from ...bodies.skinning import nearest_pairs

    return nearest_pairs(_body(path).layer.v_template.detach()[::SURFACE_STRIDE], SURFACE_NEIGHBOURS)


def check_x(x: torch.Tensor) -> None:
    if x.ndim != 2 or x.shape[1] != X_DIM:
        raise ValueError(f"body-keypoints estimates must have shape (B, {X_DIM}): pose (72), betas (10), camera (3); "
                         f"got {tuple(x.shape)}")


def split_x(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """pose (B, 24, 3), betas (B, 10) and camera (B, 3) of x (B, 85)."""
    check_x(x)
    return x[:, :POSE_DIM].reshape(-1, NUM_JOINTS, 3), x[:, POSE_DIM:POSE_DIM + NUM_BETAS], x[:, -3:]


def project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """(B, N, 2) weak-perspective projection of points (B, N, 3) by cameras (B, 3) = (scale, tx, ty)."""
    return camera[:, None, :1] * points[..., :2] + camera[:, None, 1:]


@dataclass(frozen=True, eq=False)
class BodyKeypointsProblem:
    """A batch of instances: the detector's draws for each item, on one body model."""

    config: BodyKeypointsConfig
    detections: data.Detections
    body_path: str | None = None
    """The body model file (None: the shipped default body)."""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = X_DIM

    @property
    def batch_size(self) -> int:
        return len(self.detections.confidence)

    def subset(self, index: torch.Tensor) -> "BodyKeypointsProblem":
        return replace(self, detections=self.detections.subset(index))

    @property
    def pixels_per_unit(self) -> float:
        return self.config.image_size / 2.0

    @property
    def faces(self) -> torch.Tensor:
        return _body(self.body_path).faces

    def body(self, x: torch.Tensor, vertices: str = "landmarks") -> tuple[torch.Tensor, torch.Tensor]:
        """Posed joints (B, 24, 3) and vertices (B, n, 3) of x: the 'landmarks', the training 'surface' or 'all'."""
        pose, betas, _ = split_x(x)
        return _skinning(self.body_path, vertices, x)(betas, axis_angle_to_matrix(pose))

    def surface(self, x: torch.Tensor) -> torch.Tensor:
        """(B, V / 4, 3) every fourth mesh vertex of x, for the learned fitters' training loss."""
        return self.body(x, "surface")[1]

    @property
    def surface_edges(self) -> torch.Tensor:
        return _surface_edges(self.body_path).to(self.device)

    def keypoints_3d(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 35, 3) the keypoints of x in the body frame."""
        return torch.cat(self.body(x), dim=1)

    def projection(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 35, 2) the keypoints of x in crop coordinates, as the energy sees them."""
        return project(self.keypoints_3d(x), split_x(x)[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 35, 3) the detector's report of a body at x (module docstring); dropped keypoints at (0, 0)."""
        return self._report(self.projection(x))

    def _report(self, projected: torch.Tensor) -> torch.Tensor:
        """The detector's report (B, 35, 3) of projected keypoints (B, 35, 2): its offsets and confidences."""
        confidence = self.detections.confidence.to(projected)
        position = (projected + self.detections.offset.to(projected)) * (confidence > 0)[..., None]
        return torch.cat([position, confidence[..., None]], dim=-1)

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def data_residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 70) sqrt(confidence) times each keypoint's error in pixels: the data term's residuals."""
        observation = observation.to(x)
        weight = observation[..., 2:].clamp(min=0).sqrt()
        return (self.pixels_per_unit * weight * (self.projection(x) - observation[..., :2])).flatten(1)

    def regulariser_residuals(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 70 + 10) the weighted prior's and shape term's residuals."""
        pose, betas, _ = split_x(x)
        return torch.cat([math.sqrt(self.config.prior_weight) * _prior().residuals(pose[:, 1:].flatten(1)),
                          math.sqrt(self.config.shape_weight) * betas], dim=1)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 150): energy == residuals.square().sum(1)."""
        return torch.cat([self.data_residuals(x, observation), self.regulariser_residuals(x)], dim=1)

    def linearize(self, x: torch.Tensor, observation: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The prediction, the residuals (B, 150) and their Jacobian (B, 150, 85) with respect to dx at x (+) dx,
        dx = 0, analytically (Skinning.linearized, the prior's linearisation through SO(3)'s inverse right
        Jacobian); autodiff (engine.solvers.generic) for a body with pose-corrective blend shapes."""
        skinning = _skinning(self.body_path, "landmarks", x)
        if skinning.pose_correctives:
            from ...solvers.generic import linearize

            return linearize(self, x, observation, analytic=False)
        pose, betas, camera = split_x(x)
        observation = observation.to(x)
        points, rotation_jacobian, beta_jacobian = skinning.linearized(betas, axis_angle_to_matrix(pose))
        weight = self.pixels_per_unit * observation[..., 2:].clamp(min=0).sqrt()  # (B, K, 1)
        projected = project(points, camera)
        data = (weight * (projected - observation[..., :2])).flatten(1)
        scale = (weight * camera[:, None, :1])[..., None]  # (B, K, 1, 1)
        batch = len(x)
        data_jacobian = torch.cat([
            (scale * rotation_jacobian[:, :, :2].flatten(3)).flatten(1, 2),
            (scale * beta_jacobian[:, :, :2]).flatten(1, 2),
            (weight * points[..., :2]).flatten(1)[..., None],
            (weight[..., None] * torch.eye(2, dtype=x.dtype, device=x.device)).flatten(1, 2)], dim=2)
        prior, prior_jacobian = _prior().linearized(pose[:, 1:].flatten(1))
        increments = right_jacobian_inverse(pose[:, 1:])  # (B, 23, 3, 3): joint j's angles follow dx_j alone
        blocks = torch.zeros(batch, NUM_JOINTS - 1, 3, NUM_JOINTS - 1, 3, dtype=x.dtype, device=x.device)
        joints = torch.arange(NUM_JOINTS - 1, device=x.device)
        blocks[:, joints, :, joints, :] = increments.transpose(0, 1)
        root = prior.new_zeros(batch, prior.shape[1], 3)
        prior_weight, shape_weight = math.sqrt(self.config.prior_weight), math.sqrt(self.config.shape_weight)
        prior_rows = torch.cat([root, prior_jacobian @ blocks.reshape(batch, POSE_DIM - 3, POSE_DIM - 3),
                                prior.new_zeros(batch, prior.shape[1], NUM_BETAS + 3)], dim=2)
        shape_rows = torch.cat([x.new_zeros(batch, NUM_BETAS, POSE_DIM),
                                shape_weight * torch.eye(NUM_BETAS, dtype=x.dtype, device=x.device).expand(batch, -1, -1),
                                x.new_zeros(batch, NUM_BETAS, 3)], dim=2)
        residuals = torch.cat([data, prior_weight * prior, shape_weight * betas], dim=1)
        jacobian = torch.cat([data_jacobian, prior_weight * prior_rows, shape_rows], dim=1)
        return self._report(projected), residuals, jacobian

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the energy of x (module docstring); the prediction is not read."""
        return self.residuals(x, observation).square().sum(1)

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,): reprojection error (px) of the detected keypoints and, with the truth, MPJPE, PA-MPJPE
        and V2V (mm)."""
        observation = observation.to(x)
        detected = (observation[..., 2] > 0).to(x)
        distance = (self.projection(x) - observation[..., :2]).norm(dim=-1) * self.pixels_per_unit
        result = {"reprojection_px": (distance * detected).sum(1) / detected.sum(1).clamp(min=1)}
        if ground_truth is not None:
            joints, vertices = self.body(x, "all")
            true_joints, true_vertices = self.body(ground_truth.to(x), "all")
            result["mpjpe_mm"] = root_aligned_mm(joints, true_joints, joints[:, 0], true_joints[:, 0])
            result["pa_mpjpe_mm"] = procrustes_aligned_mm(joints, true_joints)
            result["v2v_mm"] = root_aligned_mm(vertices, true_vertices, joints[:, 0], true_joints[:, 0])
        return result

    def initial_estimate(self) -> torch.Tensor:
        """(B, 85): the rest pose facing the camera, the mean shape, the sampler's mean scale, centred."""
        x0 = torch.zeros(self.batch_size, X_DIM, device=self.device)
        x0[:, POSE_DIM + NUM_BETAS] = DEFAULT_SCALE
        return x0

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 85) ground truths of the config's split (data.py)."""
        from ...bodies.shapes import random_shapes
        from ..ik.data import drawn_poses

        count = self.batch_size
        poses = drawn_poses(self.config.split, count, generator)
        root = axis_angle_to_matrix(data.random_orientations(count, self.config.max_yaw_deg, generator))
        poses[:, 0] = _compose_root(root, poses[:, 0])
        betas = random_shapes(count, NUM_BETAS, generator)
        x = torch.cat([poses.reshape(count, -1), betas, torch.zeros(count, 3)], dim=1)
        with torch.no_grad():
            pelvis = self.body(x.to(self.device))[0][:, 0, :2].cpu()
        x[:, -3:] = data.framing_cameras(pelvis, generator)
        return x.to(self.device)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        check_x(x)
        check_x(dx)
        rotations = retract_rotation_vectors(x[:, :POSE_DIM].reshape(-1, NUM_JOINTS, 3),
                                             dx[:, :POSE_DIM].reshape(-1, NUM_JOINTS, 3))
        return torch.cat([rotations.flatten(1), x[:, POSE_DIM:] + dx[:, POSE_DIM:]], dim=1)


def _compose_root(turn: torch.Tensor, root: torch.Tensor) -> torch.Tensor:
    """Axis-angle of turn (B, 3, 3) applied after the pose's own root rotation (B, 3)."""
    return matrix_to_axis_angle(turn @ axis_angle_to_matrix(root))


def make_problem(config: BodyKeypointsConfig, batch_size: int = 1, device: torch.device | str = "cpu",
                 body_path: str | None = None) -> BodyKeypointsProblem:
    """A batch with the detector's draws of the config's seed."""
    generator = torch.Generator().manual_seed(config.detector_seed)
    drawn = data.detections(batch_size, NUM_KEYPOINTS, config.noise_px, config.outlier_rate, config.drop_rate,
                            config.image_size, generator)
    device = torch.device(device)
    return BodyKeypointsProblem(config, data.Detections(drawn.offset.to(device), drawn.confidence.to(device)),
                                body_path, device)

