"""Forward kinematics of SMPL's 24-joint tree and the rotation parameterisation of the IK problem.

x (B, 72) holds one local rotation vector (axis times angle, radians) per joint, SMPL's axis-angle pose
flattened: rotation j turns joint j's children about joint j, in the frame of j's parent. Joint positions
follow the paper's update y_n = y_parent + G_parent (y_n_ref - y_parent_ref), with G_n = G_parent R_n the
global rotations composed down the tree and the root (pelvis) fixed at the origin.

exp / log go through unit quaternions with series expansions near zero angle, so they and their gradients
are finite at x = 0; log returns angles in [0, pi].
"""
from __future__ import annotations

import functools

import torch

from engine.bodies.skeleton import NUM_JOINTS, PARENTS
from engine.rotations import (exp_quaternion, log_quaternion, matrix_to_quaternion, quaternion_to_matrix,
                              retract_rotation_vectors)


def _topological_order(parents: tuple[int, ...]) -> tuple[int, ...]:
    """Joints ordered so every parent comes before its children (breadth first from the root)."""
    order = [j for j, parent in enumerate(parents) if parent < 0]
    for joint in order:
        order += [child for child, parent in enumerate(parents) if parent == joint]
    if len(order) != len(parents):
        raise ValueError("the kinematic tree has a cycle or joints unreachable from the root")
    return tuple(order)


ORDER = _topological_order(PARENTS)


def _levels(parents: tuple[int, ...]) -> tuple[tuple[list[int], list[int]], ...]:
    """The joints by depth below the root, each level with its joints' parents' places in the level above."""
    depth = [0] * len(parents)
    for joint in ORDER:
        depth[joint] = depth[parents[joint]] + 1 if parents[joint] >= 0 else 0
    levels = [[j for j in ORDER if depth[j] == d] for d in range(max(depth) + 1)]
    return tuple((level, [levels[d - 1].index(parents[j]) for j in level] if d else [])
                 for d, level in enumerate(levels))


LEVELS = _levels(PARENTS)
LEVEL_ORDER = [j for level, _ in LEVELS for j in level]
UNSORT = torch.tensor([LEVEL_ORDER.index(j) for j in range(len(PARENTS))])
"""Position of each joint in the levels' concatenation."""
PARENT_OR_SELF = [max(parent, 0) for parent in PARENTS]


def _descendants(parents: tuple[int, ...]) -> torch.Tensor:
    """(J, J) bool: entry [j, k] is whether k lies strictly below j in the tree."""
    below = torch.zeros(len(parents), len(parents), dtype=torch.bool)
    for k in ORDER:
        parent = parents[k]
        if parent >= 0:
            below[:, k] = below[:, parent]
            below[parent, k] = True
    return below


DESCENDANTS = _descendants(PARENTS)


def _check_x(x: torch.Tensor, name: str = "x") -> None:
    if x.ndim != 2 or x.shape[1] != 3 * NUM_JOINTS:
        raise ValueError(f"{name} must have shape (B, {3 * NUM_JOINTS}) (a rotation vector per joint), "
                         f"got {tuple(x.shape)}")


def rotations_from_x(x: torch.Tensor) -> torch.Tensor:
    """Local rotation matrices (B, 24, 3, 3) of x (B, 72)."""
    _check_x(x)
    return quaternion_to_matrix(exp_quaternion(x.reshape(x.shape[0], NUM_JOINTS, 3)))


def x_from_rotations(rotations: torch.Tensor) -> torch.Tensor:
    """x (B, 72) of local rotation matrices (B, 24, 3, 3): the inverse of rotations_from_x (angles in [0, pi])."""
    if rotations.ndim != 4 or rotations.shape[1:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"rotations must have shape (B, {NUM_JOINTS}, 3, 3), got {tuple(rotations.shape)}")
    return log_quaternion(matrix_to_quaternion(rotations)).flatten(1)


def retract(x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """log(exp(x_j) exp(dx_j)) per joint, (B, 72): the increment dx_j applied on the right of R_j, in joint j's
    own frame. retract(x, 0) == x for angles in [0, pi] (larger ones come back wrapped)."""
    _check_x(x)
    _check_x(dx, "dx")
    shape = (x.shape[0], NUM_JOINTS, 3)
    return retract_rotation_vectors(x.reshape(shape), dx.reshape(dx.shape[0], *shape[1:])).reshape(x.shape[0], -1)


def geodesic_angle(r1: torch.Tensor, r2: torch.Tensor) -> torch.Tensor:
    """Angle in radians (...) of the rotation between r1 and r2 (..., 3, 3): acos((tr(r1 r2^T) - 1) / 2), computed
    as atan2(sin, cos) from the same matrix so its gradient stays finite at 0 and pi."""
    m = r1 @ r2.transpose(-1, -2)
    cos = ((m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2] - 1.0) * 0.5).clamp(-1.0, 1.0)
    axis = torch.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1)
    squared = (axis * axis).sum(-1)
    sin = 0.5 * torch.sqrt(squared.clamp(min=torch.finfo(squared.dtype).tiny))
    return torch.atan2(sin, cos)


def _rest_batch(rest_joints: torch.Tensor, batch: int) -> torch.Tensor:
    if rest_joints.shape[-2:] != (NUM_JOINTS, 3) or rest_joints.ndim not in (2, 3):
        raise ValueError(f"rest_joints must have shape ({NUM_JOINTS}, 3) or (B, {NUM_JOINTS}, 3), "
                         f"got {tuple(rest_joints.shape)}")
    if rest_joints.ndim == 2:
        rest_joints = rest_joints.unsqueeze(0)
    if rest_joints.shape[0] not in (1, batch):
        raise ValueError(f"rest_joints has batch size {rest_joints.shape[0]} but the rotations have {batch}")
    return rest_joints.expand(batch, NUM_JOINTS, 3)


def chain(rotations: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint positions (B, 24, 3), root at the origin, and global rotations (B, 24, 3, 3)."""
    if rotations.ndim != 4 or rotations.shape[1:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"rotations must have shape (B, {NUM_JOINTS}, 3, 3), got {tuple(rotations.shape)}")
    rest = _rest_batch(rest_joints.to(rotations), rotations.shape[0])
    # One batched product per depth level (9) instead of one per joint (24), on tensors put in level order once
    # so that each level is a slice: the cost here is per operation, not per number.
    order, places = _level_indices(rotations.device)
    rotations = rotations.index_select(1, order)
    bones = (rest - rest[:, PARENT_OR_SELF]).index_select(1, order).unsqueeze(-1)
    globals_ = [rotations[:, :1]]
    positions = [torch.zeros_like(rest[:, :1])]
    start = 1
    for (level, _), parent_places in zip(LEVELS[1:], places):
        stop = start + len(level)
        parent_globals = globals_[-1].index_select(1, parent_places)
        positions.append(positions[-1].index_select(1, parent_places)
                         + (parent_globals @ bones[:, start:stop]).squeeze(-1))
        globals_.append(parent_globals @ rotations[:, start:stop])
        start = stop
    unsort = UNSORT.to(rotations.device)
    return torch.cat(positions, 1)[:, unsort], torch.cat(globals_, 1)[:, unsort]


@functools.lru_cache(maxsize=None)
def _level_indices(device: torch.device) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """LEVEL_ORDER and each level's parent places as index tensors on `device`."""
    return (torch.tensor(LEVEL_ORDER, device=device),
            tuple(torch.tensor(places, device=device) for _, places in LEVELS[1:]))


def forward_kinematics(rotations: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """Joint positions (B, 24, 3), root at the origin, of local rotations (B, 24, 3, 3) on a skeleton whose rest
    joints are rest_joints (24, 3) or (B, 24, 3) (any translation; the rest root is subtracted)."""
    return chain(rotations, rest_joints)[0]


def joint_jacobian(x: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """d joints.flatten(1) / d dx at dx = 0 for joints = FK(rotations_from_x(retract(x, dx))), (B, 72, 72).

    A right increment w at joint j turns everything below j about p_j by G_j w: d p_k = (G_j w) x (p_k - p_j)
    for the strict descendants k of j, so the (k, j) block is -[p_k - p_j]_x G_j."""
    return jacobian_from_chain(*chain(rotations_from_x(x), rest_joints))


def jacobian_from_chain(positions: torch.Tensor, globals_: torch.Tensor) -> torch.Tensor:
    """joint_jacobian from the joint positions (B, 24, 3) and global rotations (B, 24, 3, 3) chain() gave: only
    the (descendant k, ancestor j) blocks are computed, about a sixth of all pairs."""
    batch = positions.shape[0]
    below, above = _pairs(positions.device)
    d = (positions[:, below] - positions[:, above])[:, :, None, :]  # (B, P, 1, 3): p_k - p_j
    axes = globals_[:, above].transpose(-1, -2)  # (B, P, c, 3): column c of G_j
    # Elementwise cross products (axis_c x d), many times faster than batches of 3x3 matrix products.
    columns = torch.stack([axes[..., 1] * d[..., 2] - axes[..., 2] * d[..., 1],
                           axes[..., 2] * d[..., 0] - axes[..., 0] * d[..., 2],
                           axes[..., 0] * d[..., 1] - axes[..., 1] * d[..., 0]], -1)  # (B, P, c, 3)
    jacobian = positions.new_zeros(batch, NUM_JOINTS, 3, NUM_JOINTS, 3)
    jacobian[:, below, :, above, :] = columns.transpose(-1, -2).transpose(0, 1)  # [P, B, axis, c]
    return jacobian.reshape(batch, 3 * NUM_JOINTS, 3 * NUM_JOINTS)


@functools.lru_cache(maxsize=None)
def _pairs(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(k, j) index tensors of every joint k strictly below joint j."""
    above, below = torch.nonzero(DESCENDANTS, as_tuple=True)
    return below.to(device), above.to(device)
