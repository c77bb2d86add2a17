"""The energy of pose-from-2d: Tome et al.'s model (the paper's Eq. 11-12) over x = (yaw, root, pose).

    E(x) = sum_c w_c sum_j v_j sum_(u,v) rho_delta(X_cj - WP_c(root + R(yaw) (P_j + d_j))) / noise^2  +  prior(P)

WP_c is camera c's weak-perspective projection at the root's depth (known calibration: cameras.py), d_j where the
energy expects the detector to find joint j from the skeleton's joint, in the body's frame (zero untrained: as in
the paper, a term added to an existing one starts at 0), rho_delta the smooth (pseudo-)Huber loss
delta^2 (sqrt(1 + (r / delta)^2) - 1), which is r^2 / 2 near zero: with unit weights the data term is the negative
log-likelihood of Gaussian detections of the nominal noise. The prior is a mixture
of probabilistic-PCA pose bases (mu_i, e_i, sigma_i), each the Gaussian energy p_i(P) = |sigma_i . e_i^T
(P - mu_i)|^2 / 2 of a full basis of 48 vectors (so the fit needs no subspace constraint: every pose has
coefficients a_i = e_i^T (P - mu_i) in each).

The mixture. Tome et al. fit every model and keep the one with the least reconstruction error; since all models
explain the same 2D joints, that is minimising data(P) + min_i p_i(P) over one pose. The paper replaces the
choice by a weighted average; here the min is made soft inside the energy:

    prior(P) = -T log sum_i omega_i exp(-p_i(P) / T),   omega = softmax(beta_i + sum_k log sigma_ik)

the negative log-likelihood of the Gaussian mixture at T = 1 (omega_i: mixing weight times Gaussian normaliser;
constant so that prior >= 0), Tome et al.'s choice of the best model as T -> 0, and the energy stays one smooth
function of one pose with one minimum for the argmin layer. Its gradient is the softmin-weighted average of the
models' gradients.

As squares (for Gauss-Newton and Levenberg-Marquardt): each data term is the residual
sqrt(w_c v_j) / noise * r / sqrt(sqrt(1 + (r / delta)^2) + 1), whose square is its rho and which is smooth at 0;
the prior is sum_i pi_i p_i + T KL(pi || omega), pi the softmin weights at P, so its residuals are
sqrt(pi_i / 2) sigma_i . e_i^T (P - mu_i) per model and, with more than one model, sqrt(T KL).

The weights the argmin layer learns (weight_shapes): the bases (mean, basis), their log_sigma, the mixture's
logits (mixing) and log_temperature, log_camera_weights w_c, log_joint_weights v_j, joint_offsets d_j and
log_huber (delta in units of the nominal noise). Untrained: k-means of the training poses into MODELS clusters,
a PCA of each (sigma = 1 / standard deviation, the variance floored at VARIANCE_FLOOR), mixing = log cluster
shares, T = 1, unit camera and joint weights, zero joint offsets and delta = 2 noise.
"""
from __future__ import annotations

import functools
import math
import os

import torch

from ...clustering import kmeans
from ...learn.energy_weights import energy_choice
from ...learn.solver import ASSETS
from .cameras import IMAGE, MIN_DEPTH, rig, weak_perspective
from .data import POSE, ROOT, canonical_poses, training_smpl_poses
from .skeleton import NUM, POSE_DIM, yaw_matrix

PROBLEM = "pose-from-2d"
MODELS = 4
"""Pose bases in the mixture."""
FIT_POSES = 20_000
"""Training poses the untrained bases are fitted on (the `train` source, seed 0)."""
VARIANCE_FLOOR = 1e-5
"""Added to every variance of the fit, m^2 (a 3 mm standard deviation): the training poses barely move some
directions (bone lengths), whose inverse deviations would otherwise be stiff beyond any use."""
HUBER = 2.0
"""The hand-set Huber threshold, in units of the nominal pixel noise."""
KMEANS_ITERATIONS = 30
_KL_FLOOR = 1e-12


def weight_shapes(cameras: int, models: int = MODELS) -> dict[str, tuple[int, ...]]:
    """Name -> shape of the energy's weights for a rig of `cameras` cameras."""
    return {"mean": (models, POSE_DIM), "basis": (models, POSE_DIM, POSE_DIM), "log_sigma": (models, POSE_DIM),
            "mixing": (models,), "log_temperature": (1,), "log_camera_weights": (cameras,),
            "log_joint_weights": (NUM,), "joint_offsets": (NUM, 3), "log_huber": (1,)}


def shipped_weights(cameras: int) -> str:
    """assets/wibergian/pose-from-2d-mono.safetensors (one camera) or -multi (four)."""
    name = f"{PROBLEM}-{'mono' if cameras == 1 else 'multi'}.safetensors"
    return os.path.normpath(os.path.join(ASSETS, "wibergian", name))


@functools.lru_cache(maxsize=2)
def _fitted_bases(models: int) -> tuple[torch.Tensor, ...]:
    poses = canonical_poses(training_smpl_poses(FIT_POSES, 0)).double()
    labels = kmeans(poses, models, iterations=KMEANS_ITERATIONS)
    means, bases, log_sigmas, shares = [], [], [], []
    for i in range(models):
        members = poses[labels == i]
        mean = members.mean(0)
        centred = members - mean
        covariance = centred.T @ centred / len(members) + VARIANCE_FLOOR * torch.eye(POSE_DIM, dtype=poses.dtype)
        variances, vectors = torch.linalg.eigh(covariance)
        variances, vectors = variances.flip(0), vectors.flip(1)
        signs = torch.sign(vectors[vectors.abs().argmax(0), torch.arange(POSE_DIM)])  # one sign, on any machine
        means.append(mean)
        bases.append(vectors * signs)
        log_sigmas.append(-0.5 * variances.log())
        shares.append(math.log(len(members) / len(poses)))
    joints = poses.reshape(len(poses), NUM - 1, 3)
    level_view = joints[..., 1].square() + 0.5 * (joints[..., 0].square() + joints[..., 2].square())
    return (torch.stack(means).float(), torch.stack(bases).float(), torch.stack(log_sigmas).float(),
            torch.tensor(shares), level_view.sum(1).mean().div(NUM).sqrt().float())


def untrained_weights(cameras: int, models: int = MODELS) -> dict[str, torch.Tensor]:
    """The hand-set energy (module docstring), float32 on the CPU; a fresh copy each call."""
    mean, basis, log_sigma, shares, _ = _fitted_bases(models)
    return {"mean": mean.clone(), "basis": basis.clone(), "log_sigma": log_sigma.clone(),
            "mixing": shares.float().clone(), "log_temperature": torch.zeros(1),
            "log_camera_weights": torch.zeros(cameras), "log_joint_weights": torch.zeros(NUM),
            "joint_offsets": torch.zeros(NUM, 3), "log_huber": torch.full((1,), math.log(HUBER))}


def mean_pose() -> torch.Tensor:
    """(48,) the training poses' mean pose (the fit's clusters' means weighted by their shares)."""
    mean, _, _, shares, _ = _fitted_bases(MODELS)
    return (shares.exp()[:, None] * mean).sum(0)


def pose_spread() -> torch.Tensor:
    """() the training poses' RMS joint distance from the pelvis as a level camera sees it from a random side
    (the vertical in full, the horizontal halved on average), metres."""
    return _fitted_bases(MODELS)[4]


def energy_weights(choice: str, cameras: int) -> dict[str, torch.Tensor]:
    """The weights the config's `energy` names: 'untrained', 'trained' (shipped_weights) or a weights file;
    EnergyWeightsError (one line) for a file that is missing or does not fit."""
    path = shipped_weights(cameras) if choice == "trained" else choice
    return {name: value.clone() for name, value in energy_choice(PROBLEM, path, untrained_weights(cameras)).items()}


# --- the energy -------------------------------------------------------------------------------------------------

def pose_joints(x: torch.Tensor) -> torch.Tensor:
    """(B, 17, 3) the canonical root-centred pose of x (pelvis at the origin)."""
    pose = x[:, POSE].reshape(len(x), NUM - 1, 3)
    return torch.cat([torch.zeros_like(pose[:, :1]), pose], dim=1)


def turned_joints(x: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 17, 3) x's pose (moved by offsets (17, 3) in its frame) turned by its yaw, root at the origin."""
    pose = pose_joints(x) if offsets is None else pose_joints(x) + offsets.to(x)
    return pose @ yaw_matrix(x[:, 0]).transpose(-1, -2)


def world_joints(x: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 17, 3) the joints x places in the world: root + R(yaw) (pose + offsets)."""
    return x[:, None, ROOT] + turned_joints(x, offsets)


@functools.lru_cache(maxsize=8)
def camera_rig(cameras: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """cameras.rig in this dtype on this device (cached)."""
    rotations, centres = rig(cameras)
    return rotations.to(device, dtype), centres.to(device, dtype)


def project(x: torch.Tensor, cameras: int, offsets: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, 17, 2) the weak-perspective pixels in the first `cameras` cameras of x's joints, each moved by
    offsets (17, 3) in the body's frame when given."""
    rotations, centres = camera_rig(cameras, x.dtype, x.device)
    return weak_perspective(world_joints(x, offsets), x[:, ROOT], rotations, centres)


def data_residuals(x: torch.Tensor, observation: torch.Tensor, weights: dict[str, torch.Tensor],
                   noise_px: float) -> torch.Tensor:
    """(B, C * 17 * 2) residuals whose squares are the data term's weighted pseudo-Huber losses."""
    r = observation - project(x, observation.shape[1], weights["joint_offsets"])
    delta = noise_px * weights["log_huber"].exp()
    scale = (weights["log_camera_weights"][:, None] + weights["log_joint_weights"][None]).mul(0.5).exp() / noise_px
    return (scale[..., None] * r / ((1 + (r / delta).square()).sqrt() + 1).sqrt()).flatten(1)


def _prior_parts(pose: torch.Tensor, weights: dict[str, torch.Tensor]
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per model (B, M, 48) sigma . e^T (P - mu), (B, M) p_i and the softmin's log-weights, and (B,) the prior."""
    log_sigma = weights["log_sigma"]
    coefficients = torch.einsum("bml,mlk->bmk", pose[:, None] - weights["mean"][None], weights["basis"])
    whitened = log_sigma.exp()[None] * coefficients
    energies = 0.5 * whitened.square().sum(-1)
    log_omega = torch.log_softmax(weights["mixing"] + log_sigma.sum(-1), dim=0)
    temperature = weights["log_temperature"].exp()
    logits = log_omega[None] - energies / temperature
    prior = -temperature * torch.logsumexp(logits, dim=1)
    return whitened, energies, torch.log_softmax(logits, dim=1), prior


def energy(x: torch.Tensor, observation: torch.Tensor, weights: dict[str, torch.Tensor],
           noise_px: float) -> torch.Tensor:
    """(B,) E(x) of the module docstring; differentiable (twice) in x and in the weights."""
    data = data_residuals(x, observation, weights, noise_px).square().sum(1)
    return data + _prior_parts(x[:, POSE], weights)[3]


def residuals(x: torch.Tensor, observation: torch.Tensor, weights: dict[str, torch.Tensor],
              noise_px: float) -> torch.Tensor:
    """(B, R) with energy == residuals.square().sum(1) (module docstring)."""
    whitened, energies, log_pi, prior = _prior_parts(x[:, POSE], weights)
    parts = [data_residuals(x, observation, weights, noise_px),
             ((0.5 * log_pi).exp()[..., None] * whitened).flatten(1) * math.sqrt(0.5)]
    if energies.shape[1] > 1:
        kl = prior - (log_pi.exp() * energies).sum(1)
        parts.append(kl.clamp(min=_KL_FLOOR).sqrt()[:, None])
    return torch.cat(parts, dim=1)


def linearize(x: torch.Tensor, observation: torch.Tensor, weights: dict[str, torch.Tensor], noise_px: float
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The residuals (B, R) and their Jacobian (B, R, 52) in x, analytic: one pass instead of forward-mode
    autodiff's 52 (see `residuals` for their terms)."""
    batch, cameras = len(x), observation.shape[1]
    rotations, centres = camera_rig(cameras, x.dtype, x.device)
    yaw, offsets = x[:, 0], weights["joint_offsets"]
    body = pose_joints(x) + offsets  # (B, 17, 3)
    turn = yaw_matrix(yaw)
    cos, sin, zero = yaw.cos(), yaw.sin(), torch.zeros_like(yaw)
    turn_rate = torch.stack([torch.stack([-sin, zero, cos], -1), torch.stack([zero, zero, zero], -1),
                             torch.stack([-cos, zero, -sin], -1)], -2)
    relative = x[:, None, ROOT] + body @ turn.transpose(1, 2)  # the joints' world positions (B, 17, 3)
    points = torch.einsum("cij,bcnj->bcni", rotations, relative[:, None] - centres[None, :, None])
    camera_root = torch.einsum("cij,bcj->bci", rotations, x[:, None, ROOT] - centres[None])
    free = -camera_root[..., 2] > MIN_DEPTH  # where the depth is not held at its floor
    depth = (-camera_root[..., 2]).clamp(min=MIN_DEPTH)
    scale = IMAGE.focal / depth  # (B, C)
    flip = torch.tensor([1.0, -1.0], dtype=x.dtype, device=x.device)
    pixels = torch.tensor([0.5 * IMAGE.width, 0.5 * IMAGE.height], dtype=x.dtype, device=x.device)
    projected = pixels + flip * scale[..., None, None] * points[..., :2]
    jacobian = x.new_zeros(batch, cameras, NUM, 2, x.shape[1])
    scale_rate = torch.where(free, IMAGE.focal / depth.square(), torch.zeros_like(depth))[..., None] * \
        rotations[None, :, 2]  # d scale / d root (B, C, 3)
    jacobian[..., ROOT] = flip[:, None] * (scale[..., None, None, None] * rotations[None, :, None, :2]
                                           + points[..., :2, None] * scale_rate[:, :, None, None])
    turned_rate = torch.einsum("cij,bnj->bcni", rotations, body @ turn_rate.transpose(1, 2))
    jacobian[..., 0] = flip * scale[..., None, None] * turned_rate[..., :2]
    per_joint = flip[:, None] * scale[..., None, None] * (rotations[None] @ turn[:, None])[..., :2, :]  # (B,C,2,3)
    joint_columns = jacobian[:, :, 1:, :, POSE].reshape(batch, cameras, NUM - 1, 2, NUM - 1, 3)
    index = torch.arange(NUM - 1, device=x.device)
    joint_columns[:, :, index, :, index] = per_joint.unsqueeze(0).expand(NUM - 1, -1, -1, -1, -1)
    jacobian[:, :, 1:, :, POSE] = joint_columns.reshape(batch, cameras, NUM - 1, 2, POSE_DIM)
    r = observation - projected
    delta = noise_px * weights["log_huber"].exp()
    q = (1 + (r / delta).square()).sqrt()
    weight = (weights["log_camera_weights"][:, None] + weights["log_joint_weights"][None]).mul(0.5).exp() / noise_px
    slope = weight[..., None] * ((q + 1).rsqrt() - r.square() / (2 * delta.square() * q * (q + 1) ** 1.5))
    data = (weight[..., None] * r / (q + 1).sqrt()).flatten(1)
    data_jacobian = (-slope[..., None] * jacobian).flatten(1, 3)
    whitened, energies, log_pi, prior = _prior_parts(x[:, POSE], weights)
    maps = weights["log_sigma"].exp()[..., None] * weights["basis"].transpose(1, 2)  # d whitened / d pose (M,48,48)
    energy_rates = torch.einsum("bmk,mkl->bml", whitened, maps)
    logit_rates = -energy_rates / weights["log_temperature"].exp()
    pi = log_pi.exp()
    log_pi_rates = logit_rates - (pi[..., None] * logit_rates).sum(1, keepdim=True)
    root_pi = (0.5 * pi).sqrt()
    prior_residuals = (root_pi[..., None] * whitened).flatten(1)
    prior_jacobian = x.new_zeros(batch, energies.shape[1], POSE_DIM, x.shape[1])
    prior_jacobian[..., POSE] = root_pi[..., None, None] * (maps[None] + 0.5 * whitened[..., None] *
                                                            log_pi_rates[:, :, None])
    parts, jacobians = [data, prior_residuals], [data_jacobian, prior_jacobian.flatten(1, 2)]
    if energies.shape[1] > 1:
        kl = prior - (pi * energies).sum(1)
        root_kl = kl.clamp(min=_KL_FLOOR).sqrt()
        kl_rate = x.new_zeros(batch, 1, x.shape[1])
        kl_rate[:, 0, POSE] = torch.where((kl > _KL_FLOOR)[:, None], -(energies[..., None] * pi[..., None] *
                                          log_pi_rates).sum(1) / (2 * root_kl[:, None]), torch.zeros_like(x[:, POSE]))
        parts.append(root_kl[:, None])
        jacobians.append(kl_rate)
    return torch.cat(parts, dim=1), torch.cat(jacobians, dim=1)


def prior_precisions(weights: dict[str, torch.Tensor]) -> torch.Tensor:
    """(M, 48, 48) e_i diag(sigma_i^2) e_i^T: each model's Hessian of p_i."""
    basis = weights["basis"]
    return (basis * (2 * weights["log_sigma"]).exp()[:, None]) @ basis.transpose(1, 2)
