"""SMPL+H fitted to the signals of an AR/VR device (learning-to-fit, Sec. 3.2, Eq. 4, Table 2).

x (B, 159): the root's orientation (3), the 21 body joints' local rotations (63) and the 30 finger joints' (90,
left hand then right, MANO's order), all axis-angle, and the root translation (3, metres; smplx's transl: the
pelvis is at its rest place plus it). x (+) dx composes each rotation with a right increment and adds the rest.
The body is the shipped SMPL+H body; its shape is given, not fitted: each item's betas are drawn from the config's
shape_seed (as the ground truths' shapes, engine.bodies.shapes) or set for all by the config's betas.

The observation (B, 78) is what the device reports (sensors.py: headset pose, wrist poses, fingertips, visibility
flags, and the known betas); forward(x) is its report of a body at x with this problem's betas, noise and
visibility setting. The energy reads x and the observation alone (the shape from the observation):

    E(x) = sum_p w_p |p(x) - p^|^2 (cm^2; the headset, and the wrists and fingertips of the visible hands)
         + rotation_weight sum_R |R(x) - R^|_F^2 (the headset's and the visible wrists' rotation matrices)
         + prior_weight GMM(body) + hand_weight |hand pose|^2
         + ground_weight sum_k max(0, -y_k)^2 + gravity_weight max(0, y_lowest)^2 (cm^2)

Eq. 4's data term (data_residuals, what the learned fitters read; the visibility flags weigh each hand), then
SMPLify's Gaussian mixture on the 21 body joints (the shipped prior, fitted on SMPL's 23 joints, marginalised
exactly to the first 21: PosePrior.marginal), a squared-norm regulariser of the finger joints, the ground term
(how far the GROUND_VERTICES lowest surface vertices are below the floor, y = 0) and the gravity term of the
paper's baseline (Eq. 6: how far the lowest surface vertex floats above the floor; without it the prior, fitted on
joint-limit sampler poses, sits the unseen legs in the air). Residuals (253): data 66, prior 64, hands 90,
ground 32, gravity 1.

Metrics (Sec. 4.1, mm, per item), in world coordinates (not root-aligned: the headset fixes the world frame):
V2V of the whole mesh (FB), of the head (H: vertices whose largest skinning weight is the head's or the neck's)
and of each hand (L / R: the wrist's and that hand's finger joints'), the mean 3D joint error of the 52 joints,
the ground penetration (mean depth below the floor of the vertices below it; 0 when none) and the signals' error
(mean distance of the visible signal points to the observed ones, no ground truth needed).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace

import torch

from ...bodies.metrics import MM, mean_distance_mm
from ...bodies.skeleton import SMPLH_JOINT_INDEX, SMPLH_JOINT_NAMES
from ...rotations import axis_angle_to_matrix, matrix_to_axis_angle, retract_rotation_vectors
from ..body_shared import shared_body
from ..spec import ArraySpec, bounded, check_config
from . import data, sensors

NUM_JOINTS = len(SMPLH_JOINT_NAMES)
BODY_DIM = 3 * 21
POSE_DIM = 3 * NUM_JOINTS
X_DIM = POSE_DIM + 3
PARAMETER_NAMES = tuple(f"{joint}.r{axis}" for joint in SMPLH_JOINT_NAMES for axis in "xyz") + (
    "translation.x", "translation.y", "translation.z")
MAX_ITEMS = 100_000
OBSERVATION = ArraySpec((sensors.OBSERVATION_SIZE,), "the device's signals: headset position (3, m) and rotation "
                        "(9), left and right wrist position and rotation (12 each), left and right fingertips "
                        "(15 each), visibility flags (2) and the body's betas (10)", max_items=MAX_ITEMS)
SPLITS = ("train", "val", "test", "cmu")
VISIBILITY = ("full", "half-space")
CM = 100.0
SURFACE_STRIDE = 4
"""The learned fitters' training loss and the ground term read every 4th mesh vertex."""
SURFACE_NEIGHBOURS = 4
GROUND_VERTICES = 32
"""The ground term's residuals: the depths of this many lowest surface vertices."""
HEAD_PARTS = ("neck", "head")
TIPS = 2 * len(sensors.FINGERTIPS)
MODEL_TYPE = "smplh"
"""The body model format the problem fits: SMPL+H, whose hands the device tracks."""
"""Fingertip vertices, first in the 'fingertips' and 'fit' subsets."""
DATA_RESIDUALS = 3 + 9 + 2 * (3 + 9) + 2 * 5 * 3
"""Eq. 4's residuals: headset position and rotation, each hand's wrist position and rotation and fingertips."""


@dataclass(frozen=True)
class BodyHmdConfig:
    """The device's simulation, the ground truths' source and the classic solvers' energy."""

    visibility: str = "half-space"
    """full (both hands always tracked) or half-space (a hand whose wrist is behind the headset's plane is not)."""
    split: str = "test"
    """Where ground-truth body poses come from: train, val, test (joint-limit sampler) or cmu (motion capture)."""
    max_yaw_deg: float = bounded(data.MAX_YAW_DEG, 0.0, 180.0)
    """Ground truths turn about the vertical within +-this."""
    betas: tuple[float, ...] = bounded((), -5.0, 5.0)
    """The body's shape for every item (up to 10 numbers); empty: each item's own random shape (shape_seed)."""
    shape_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the items' random shapes."""
    noise_mm: float = bounded(0.0, 0.0, 100.0)
    """Standard deviation of the sensor noise of every position, per coordinate, millimetres."""
    noise_deg: float = bounded(0.0, 0.0, 30.0)
    """Standard deviation of the sensor noise of every rotation, per axis, degrees."""
    noise_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the sensor noise (one draw per item)."""
    position_weight: float = bounded(1.0, 0.0, 1e6)
    """Weight of the headset's and the wrists' squared position errors, per cm^2."""
    rotation_weight: float = bounded(100.0, 0.0, 1e6)
    """Weight of the headset's and the wrists' squared rotation-matrix differences (Frobenius)."""
    fingertip_weight: float = bounded(1.0, 0.0, 1e6)
    """Weight of the fingertips' squared position errors, per cm^2."""
    prior_weight: float = bounded(2.0, 0.0, 1e6)
    """Weight of the Gaussian-mixture prior of the body joints."""
    hand_weight: float = bounded(1.0, 0.0, 1e6)
    """Weight of the squared norm of the finger joints' rotation vectors (rad^2)."""
    ground_weight: float = bounded(1.0, 0.0, 1e6)
    """Weight of the squared depths below the floor of the lowest vertices, per cm^2."""
    gravity_weight: float = bounded(1.0, 0.0, 1e6)
    """Weight of the squared height of the lowest vertex above the floor, per cm^2 (the body stands on it)."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.split not in SPLITS:
            raise ValueError(f"--split {self.split!r}: choose one of {', '.join(SPLITS)}")
        if self.visibility not in VISIBILITY:
            raise ValueError(f"--visibility {self.visibility!r}: choose one of {', '.join(VISIBILITY)}")
        if len(self.betas) > sensors.NUM_BETAS:
            raise ValueError(f"--betas: the body has {sensors.NUM_BETAS} shape coefficients, got {len(self.betas)}")


def _body(path: str | None):
    return shared_body(path, MODEL_TYPE)


@functools.lru_cache(maxsize=1)
def _prior():
    from ...bodies.pose_prior import PosePrior

    return PosePrior.load().marginal(range(BODY_DIM))


def _vertex_ids(path: str | None, vertices: str) -> torch.Tensor | None:
    body = _body(path)
    tips = body.layer.vertex_joint_selector.extra_joints_idxs[-TIPS:]
    surface = torch.arange(0, body.num_vertices, SURFACE_STRIDE)
    return {"fingertips": tips, "fit": torch.cat([tips, surface]), "all": None}[vertices]


@functools.lru_cache(maxsize=None)
def _skinning(path: str | None, vertices: str, device: torch.device, dtype: torch.dtype):
    """The body's skinning of its 'fingertips', the 'fit' subset (fingertips, then every SURFACE_STRIDE-th vertex)
    or 'all' vertices."""
    from ...bodies.skinning import Skinning

    return Skinning(_body(path), _vertex_ids(path, vertices)).to(device, dtype)


@functools.lru_cache(maxsize=None)
def surface_edges(path: str | None = None) -> torch.Tensor:
    """(E, 2) pairs of surface vertices, each with its SURFACE_NEIGHBOURS nearest at rest."""
    from ...bodies.skinning import nearest_pairs

    return nearest_pairs(_body(path).layer.v_template.detach()[::SURFACE_STRIDE], SURFACE_NEIGHBOURS)


@functools.lru_cache(maxsize=None)
def vertex_parts(path: str | None = None) -> dict[str, torch.Tensor]:
    """Boolean masks (V,) of the head's and each hand's vertices, by their largest skinning weight."""
    strongest = _body(path).layer.lbs_weights.argmax(1)

    def part(joints: list[int]) -> torch.Tensor:
        return torch.isin(strongest, torch.tensor(joints))

    hands = {side: [SMPLH_JOINT_INDEX[f"{side}_wrist"]] + [i for i, name in enumerate(SMPLH_JOINT_NAMES)
                                                            if name.startswith(f"{side}_") and name[-1].isdigit()]
             for side in sensors.SIDES}
    return {"head": part([SMPLH_JOINT_INDEX[name] for name in HEAD_PARTS]),
            "left_hand": part(hands["left"]), "right_hand": part(hands["right"])}


def check_x(x: torch.Tensor) -> None:
    if x.ndim != 2 or x.shape[1] != X_DIM:
        raise ValueError(f"body-hmd estimates must have shape (B, {X_DIM}): root and body rotations (66), hand "
                         f"rotations (90), translation (3); got {tuple(x.shape)}")


class Posed:
    """A batch of bodies posed at x in the world: the joints' global rotations (B, 52, 3, 3), joints (B, 52, 3) and
    the skinned subset's vertices (B, n, 3), of the body model at body_path (None: the default body)."""

    def __init__(self, x: torch.Tensor, betas: torch.Tensor, vertices: str, body_path: str | None = None):
        check_x(x)
        rotations = axis_angle_to_matrix(x[:, :POSE_DIM].reshape(-1, NUM_JOINTS, 3))
        skinning = _skinning(body_path, vertices, x.device, x.dtype)
        self.rotations, joints, points = skinning.posed(betas.to(x), rotations)
        translation = x[:, None, POSE_DIM:]
        self.joints, self.vertices = joints + translation, points + translation

    def signals(self, betas: torch.Tensor) -> sensors.Signals:
        """Every hand visible; needs the 'fingertips' or 'fit' subset."""
        return sensors.body_signals(self.rotations, self.joints, self.vertices[:, :TIPS], betas)


def signal_residuals(signals: sensors.Signals, observed: sensors.Signals, weights: BodyHmdConfig) -> torch.Tensor:
    """(B, 66) Eq. 4's residuals: headset position (cm) and rotation, then per hand, times its visibility flag, the
    wrist's position and rotation and the fingertips' positions."""
    position, rotation = math.sqrt(weights.position_weight) * CM, math.sqrt(weights.rotation_weight)
    tip = math.sqrt(weights.fingertip_weight) * CM
    shown = observed.visible
    hands = [position * (signals.wrist_positions - observed.wrist_positions) * shown[..., None],
             rotation * (signals.wrist_rotations - observed.wrist_rotations).flatten(2) * shown[..., None],
             tip * (signals.fingertips - observed.fingertips).flatten(2) * shown[..., None]]
    return torch.cat([position * (signals.headset_position - observed.headset_position),
                      rotation * (signals.headset_rotation - observed.headset_rotation).flatten(1),
                      hands[0][:, 0], hands[1][:, 0], hands[0][:, 1], hands[1][:, 1], hands[2][:, 0],
                      hands[2][:, 1]], dim=1)


@dataclass(frozen=True, eq=False)
class BodyHmdProblem:
    """A batch of instances: each item's shape and sensor noise."""

    config: BodyHmdConfig
    betas: torch.Tensor
    """(B, 10) the bodies' shapes."""
    noise: sensors.Noise
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    body_path: str | None = None
    """The user's SMPL-H model file (None: the default body)."""

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = X_DIM

    @property
    def batch_size(self) -> int:
        return len(self.betas)

    def subset(self, index: torch.Tensor) -> "BodyHmdProblem":
        return replace(self, betas=self.betas[index.to(self.betas.device)], noise=self.noise.subset(index))

    @property
    def faces(self) -> torch.Tensor:
        return _body(self.body_path).faces

    def posed(self, x: torch.Tensor, vertices: str = "all", betas: torch.Tensor | None = None) -> Posed:
        """The bodies at x with these betas (default: the problem's) and the vertex subset (_skinning)."""
        return Posed(x, self.betas if betas is None else betas, vertices, self.body_path)

    def surface(self, x: torch.Tensor) -> torch.Tensor:
        """(B, V / 4, 3) every fourth mesh vertex of x in the world, for the learned fitters' training loss."""
        return self.posed(x, "fit").vertices[:, TIPS:]

    @property
    def surface_edges(self) -> torch.Tensor:
        return surface_edges(self.body_path).to(self.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 78) what the device reports of bodies at x (sensors.py), with this problem's shapes and noise."""
        signals = sensors.noisy(self.posed(x, "fingertips").signals(self.betas.to(x)), self.noise)
        observation = sensors.pack(signals)
        return sensors.half_space(observation) if self.config.visibility == "half-space" else observation

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def data_residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 66) Eq. 4's residuals (signal_residuals) of x against the observation."""
        observed = sensors.unpack(observation.to(x))
        signals = self.posed(x, "fingertips", observed.betas).signals(observed.betas)
        return signal_residuals(signals, observed, self.config)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """(B, 253): data (66), prior (64), hands (90), ground (32), gravity (1); energy == residuals.square().sum(1)."""
        observed = sensors.unpack(observation.to(x))
        posed = self.posed(x, "fit", observed.betas)
        depth = (-posed.vertices[:, TIPS:, 1]).topk(GROUND_VERTICES, dim=1).values
        c = self.config
        return torch.cat([signal_residuals(posed.signals(observed.betas), observed, c),
                          math.sqrt(c.prior_weight) * _prior().residuals(x[:, 3:3 + BODY_DIM]),
                          math.sqrt(c.hand_weight) * x[:, 3 + BODY_DIM:POSE_DIM],
                          math.sqrt(c.ground_weight) * CM * depth.clamp(min=0),
                          math.sqrt(c.gravity_weight) * CM * (-depth[:, :1]).clamp(min=0)], dim=1)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the energy of x (module docstring); the prediction is not read."""
        return self.residuals(x, observation).square().sum(1)

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,): the signals' error and the ground penetration and, with the truth, V2V (whole, head,
        hands) and the joint error, all mm (module docstring); the bodies have the observation's shapes."""
        observed = sensors.unpack(observation.to(x))
        posed = self.posed(x, "all", observed.betas)
        below = (-posed.vertices[..., 1]).clamp(min=0)
        result = {"signals_mm": _signal_error_mm(posed, observed, self.body_path),
                  "penetration_mm": MM * below.sum(1) / (below > 0).sum(1).clamp(min=1)}
        if ground_truth is not None:
            truth = self.posed(ground_truth.to(x), "all", observed.betas)
            distance = (posed.vertices - truth.vertices).norm(dim=-1)
            result["v2v_mm"] = MM * distance.mean(1)
            for part, mask in vertex_parts(self.body_path).items():
                result[f"v2v_{part}_mm"] = MM * distance[:, mask.to(x.device)].mean(1)
            result["joint_error_mm"] = mean_distance_mm(posed.joints, truth.joints)
        return result

    def initial_estimate(self) -> torch.Tensor:
        """(B, 159): the rest pose (rest_pose) facing +z, standing on the floor over the origin."""
        x0 = rest_pose(self.batch_size, self.device)
        return stand(x0, self.betas.to(x0), torch.zeros(self.batch_size, 2, device=self.device), self.body_path)

    def headset_start(self, observation: torch.Tensor) -> torch.Tensor:
        """(B, 159) the rest pose turned about the vertical to the headset's heading and moved so that its headset
        is the observed one: a start that knows the observation (lbfgs-prior's)."""
        observed = sensors.unpack(observation.to(self.device))
        heading = observed.headset_rotation[:, :, 2]
        x = rest_pose(len(observation), self.device)
        x[:, 1] = torch.atan2(heading[:, 0], heading[:, 2])
        with torch.no_grad():
            model = self.posed(x, "fingertips", observed.betas).signals(observed.betas).headset_position
        x[:, POSE_DIM:] = observed.headset_position - model
        return x

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 159) ground truths of the config's split (data.py), deterministic per generator state."""
        from ..ik.data import drawn_poses

        count = self.batch_size
        poses = drawn_poses(self.config.split, count, generator)
        yaw = torch.deg2rad((torch.rand(count, generator=generator) * 2 - 1) * self.config.max_yaw_deg)
        hands = data.hand_poses(count, generator)
        place = (torch.rand(count, 2, generator=generator) * 2 - 1) * data.HORIZONTAL_RANGE
        return self.standing(poses, yaw, hands, place)

    def standing(self, poses: torch.Tensor, yaw: torch.Tensor, hands: torch.Tensor, place: torch.Tensor
                 ) -> torch.Tensor:
        """(B, 159) bodies of SMPL poses (B, 24, 3; joints 22 and 23 unused) turned by yaw (B,) radians about +y,
        with these hand poses (B, 30, 3), the pelvis over place (B, 2) = (x, z) and the lowest vertex on the
        floor."""
        turn = axis_angle_to_matrix(yaw[:, None] * torch.tensor([0.0, 1.0, 0.0]))
        root = matrix_to_axis_angle(turn @ axis_angle_to_matrix(poses[:, 0]))
        x = torch.cat([root, poses[:, 1:22].flatten(1), hands.flatten(1), torch.zeros(len(poses), 3)], dim=1)
        return stand(x.to(self.device), self.betas.to(self.device), place.to(self.device), self.body_path)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        check_x(x)
        check_x(dx)
        rotations = retract_rotation_vectors(x[:, :POSE_DIM].reshape(-1, NUM_JOINTS, 3),
                                             dx[:, :POSE_DIM].reshape(-1, NUM_JOINTS, 3))
        return torch.cat([rotations.flatten(1), x[:, POSE_DIM:] + dx[:, POSE_DIM:]], dim=1)


def rest_pose(count: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(count, 159) the pose library's arms-down pose (flat hands, no turn, no translation): a standing body whose
    hands, when the device does not see them, are where they mostly are."""
    from ...bodies.poses import pose_library

    x = torch.zeros(count, X_DIM, device=device)
    x[:, :3 + BODY_DIM] = pose_library()["arms-down"][:22].flatten().to(x)
    return x


STAND_CHUNK = 256
"""Bodies skinned at once (every vertex) to find the lowest."""


def config_betas(config: BodyHmdConfig, count: int) -> torch.Tensor:
    """(count, 10) the config's betas (padded with zeros) for every item."""
    betas = torch.tensor(config.betas, dtype=torch.float32)
    return torch.nn.functional.pad(betas, (0, sensors.NUM_BETAS - len(betas))).expand(count, -1).clone()


def stand(x: torch.Tensor, betas: torch.Tensor, place: torch.Tensor, body_path: str | None = None) -> torch.Tensor:
    """x with its translation setting the pelvis over place (B, 2) = (x, z) and the lowest vertex on the floor."""
    x = x.clone()
    x[:, POSE_DIM:] = 0
    with torch.no_grad():
        for start in range(0, len(x), STAND_CHUNK):
            part = slice(start, start + STAND_CHUNK)
            posed = Posed(x[part], betas[part], "all", body_path)
            pelvis = posed.joints[:, 0]
            x[part, POSE_DIM] = place[part, 0] - pelvis[:, 0]
            x[part, POSE_DIM + 1] = -posed.vertices[..., 1].min(1).values
            x[part, POSE_DIM + 2] = place[part, 1] - pelvis[:, 2]
    return x


def _signal_error_mm(posed: Posed, observed: sensors.Signals, body_path: str | None) -> torch.Tensor:
    """(B,) mean distance (mm) of the body's headset, visible wrists and visible fingertips to the observed."""
    signals = sensors.body_signals(posed.rotations, posed.joints, posed.vertices[:, _vertex_ids(body_path, "fingertips")],
                                  observed.betas)
    headset = (signals.headset_position - observed.headset_position).norm(dim=-1)
    shown = observed.visible
    wrists = ((signals.wrist_positions - observed.wrist_positions).norm(dim=-1) * shown).sum(1)
    tips = ((signals.fingertips - observed.fingertips).norm(dim=-1) * shown[..., None]).sum((1, 2))
    count = 1 + shown.sum(1) * (1 + len(sensors.FINGERTIPS))
    return MM * (headset + wrists + tips) / count


def make_problem(config: BodyHmdConfig, batch_size: int = 1, device: torch.device | str = "cpu",
                 body_path: str | None = None) -> BodyHmdProblem:
    """A batch with the shapes and the sensor noise of the config's seeds, of the body model at body_path (None:
    the default body)."""
    from ...bodies.shapes import random_shapes

    betas = config_betas(config, batch_size) if config.betas else random_shapes(
        batch_size, sensors.NUM_BETAS, torch.Generator().manual_seed(config.shape_seed))
    noise = sensors.draw_noise(batch_size, config.noise_mm, config.noise_deg,
                              torch.Generator().manual_seed(config.noise_seed))
    where = torch.device(device)
    return BodyHmdProblem(config, betas.to(where), sensors.Noise(*(n.to(where) for n in noise)), where, body_path)
