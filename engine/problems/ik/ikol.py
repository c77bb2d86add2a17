"""IKOL's inverse kinematics optimization layer (Zhang et al., "Gauss-Newton differentiation"): 18 swing angles
fitted by damped Gauss-Newton to target joints, given a twist per joint; pure torch, batched, differentiable.

Rotations (SMPL's, as in kinematics): local rotation R_j turns joint j's children about joint j in the frame of
j's parent, G_j = G_parent(j) R_j, joints p_j = p_parent + G_parent (rest_j - rest_parent), root at the origin.

Swing joints: SMPL joints 1-9, 12-14 and 16-21 (SWING_JOINTS), each with a main child c (MAIN_CHILD; spine3's is
the neck). For swing joint i:
    t_i = normalize(rest[c] - rest[i])          the unit rest child bone, in i's own (rest) frame;
    d_i = G_parent(i)^T (P[c] - P[i])          the target child bone in the frame R_i acts in (the parent's);
    R_i = R_sw(alpha_i) R_tw(phi_i)             twist phi_i about t_i first, then swing alpha_i about
    n_i = normalize(t_i x d_i)                  (both vectors in the parent's frame, where R_i maps t_i to).
The twist leaves t_i fixed, so R_i t_i = R_sw t_i, and alpha_i = angle(t_i, d_i) points the child bone exactly
along the target: with the true twist, those swing angles reproduce the targets exactly. G_parent(i) is the
current global rotation of i's parent, so each axis depends on the ancestors' swing angles: the forward f(alpha)
is computed down the tree. When t_i and d_i are (nearly) parallel (sine below AXIS_TOLERANCE) the axis is
undefined; it falls back to a fixed unit axis perpendicular to t_i (t_i x e_x, or t_i x e_y when t_i is close to
e_x); the swing angle that fits is then 0 or pi, which any perpendicular axis gives, and the switch is a
torch.where with a safe denominator, so gradients stay finite.
Leaf joints (10, 11, 15, 22, 23) move no joint and get the identity. The pelvis rotation is in closed form from
its three children (spine1, left_hip, right_hip): the rotation R minimising sum_c w_c |R b_c - D_c|^2 over the
rest child bones b_c and target child bones D_c (weighted Kabsch: M = sum_c w_c D_c b_c^T = U S V^T,
R = U diag(1, 1, det(U V^T)) V^T, the determinant fix keeping it a rotation).

Gauss-Newton as IKOL: r = f(alpha) - P (72 values, root-relative, metres), J = dr / dalpha (B, 72, 18) analytic
from the same pass down the tree (swing_jacobian; it matches autodiff), alpha += -(J^T J + u I)^-1 J^T r with
u = 0.1, from alpha = 0, 5 iterations. constant_jacobian=True (IKOL's training mode) detaches J, so backward
treats it as a constant while gradients still flow through r and the solve.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from engine.bodies.skeleton import MAIN_CHILD, NUM_JOINTS, PARENTS

from . import kinematics

SWING_JOINTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
LEAF_JOINTS = tuple(j for j in range(NUM_JOINTS) if j not in PARENTS)
PELVIS_CHILDREN = (3, 1, 2)
"""spine1, left_hip, right_hip: the bones the pelvis rotation is fitted to."""
NUM_SWING = len(SWING_JOINTS)
DAMPING = 0.1
ITERATIONS = 5
AXIS_TOLERANCE = 1e-6
"""Below this sine of the angle between t_i and d_i the swing axis falls back to a fixed perpendicular of t_i."""
_SLOT = {joint: slot for slot, joint in enumerate(SWING_JOINTS)}


def _swing_levels() -> tuple[tuple[list[int], list[int], list[int], list[int]], ...]:
    """Per depth level of the tree: its swing joints, their slots among the 18, their parents and main children."""
    levels = []
    for level, _ in kinematics.LEVELS[1:]:
        joints = [j for j in level if j in _SLOT]
        if joints:
            levels.append((joints, [_SLOT[j] for j in joints], [PARENTS[j] for j in joints],
                           [MAIN_CHILD[j] for j in joints]))
    return tuple(levels)


SWING_LEVELS = _swing_levels()
_ASSEMBLED = [0] + [j for joints, _, _, _ in SWING_LEVELS for j in joints] + list(LEAF_JOINTS)
_SMPL_ORDER = [_ASSEMBLED.index(j) for j in range(NUM_JOINTS)]
"""Where each SMPL joint sits in [pelvis, swing joints level by level, leaves]."""
_DIRECT = torch.eye(NUM_SWING)
"""[column, slot]: swing angle `column` turns joint `slot` directly."""
_BELOW, _ABOVE = torch.nonzero(kinematics.DESCENDANTS.T & torch.isin(torch.arange(NUM_JOINTS), torch.tensor(
    SWING_JOINTS)), as_tuple=True)
"""Every (joint k, swing joint j) with k strictly below j."""


@dataclass(frozen=True)
class SwingInputs:
    """What f(alpha) is fixed by: root-relative targets, twist, rest skeleton and the pelvis in closed form."""

    targets: torch.Tensor
    """(B, 24, 3) target joints P, root at the origin."""
    twist: torch.Tensor
    """(B, 18, 2) normalised (cos, sin) of each swing joint's twist angle."""
    rest_joints: torch.Tensor
    """(24, 3) or (B, 24, 3) rest joints."""
    rest_bones: torch.Tensor
    """(1 or B, 18, 3) unit rest child bones t_i."""
    pelvis: torch.Tensor
    """(B, 3, 3) the pelvis (root) rotation."""


def check_skeleton(rest_joints: torch.Tensor) -> None:
    """ValueError unless rest_joints is SMPL's 24-joint skeleton, (24, 3) or (B, 24, 3), finite."""
    if not isinstance(rest_joints, torch.Tensor) or rest_joints.ndim not in (2, 3) \
            or rest_joints.shape[-2:] != (NUM_JOINTS, 3):
        shape = tuple(rest_joints.shape) if isinstance(rest_joints, torch.Tensor) else type(rest_joints).__name__
        raise ValueError(f"IKOL needs SMPL's {NUM_JOINTS}-joint skeleton: rest joints of shape ({NUM_JOINTS}, 3) "
                         f"or (B, {NUM_JOINTS}, 3), got {shape}")
    if not torch.isfinite(rest_joints).all():
        raise ValueError("IKOL's rest joints contain NaN or infinite values")


def twist_cos_sin(twist: torch.Tensor) -> torch.Tensor:
    """(B, 18, 2) (cos, sin) of twist angles (B, 18) in radians."""
    return torch.stack([twist.cos(), twist.sin()], -1)


def axis_rotation(axis: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) about unit axes (..., 3) by the angle whose cosine and sine are given (...):
    Rodrigues, R = c I + s [a]x + (1 - c) a a^T; taking (cos, sin) keeps it smooth for every angle."""
    x, y, z = axis.unbind(-1)
    c, s = cos, sin
    k = 1.0 - c
    entries = [c + k * x * x, k * x * y - s * z, k * x * z + s * y,
               k * y * x + s * z, c + k * y * y, k * y * z - s * x,
               k * z * x - s * y, k * z * y + s * x, c + k * z * z]
    return torch.stack(entries, -1).reshape(axis.shape[:-1] + (3, 3))


def _perpendicular(t: torch.Tensor) -> torch.Tensor:
    """(..., 3) a fixed unit vector perpendicular to unit vectors t: t x e_x, or t x e_y when t is close to e_x."""
    x, y, z = t.unbind(-1)
    zero = torch.zeros_like(x)
    use_x = x.abs() < 0.9
    cross = torch.where(use_x[..., None], torch.stack([zero, z, -y], -1), torch.stack([-z, zero, x], -1))
    return cross / cross.norm(dim=-1, keepdim=True)


def swing_axis(rest_bones: torch.Tensor, target_bones: torch.Tensor) -> torch.Tensor:
    """(..., 3) n = normalize(t x d) for unit rest bones t and target bones d (..., 3) in the same frame; a fixed
    perpendicular of t where t and d are (nearly) parallel or d is zero (module docstring)."""
    return _swing_axis(rest_bones, target_bones)[0]


def _swing_axis(t: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """swing_axis, the norm |t x d| it divided by (1 where it fell back) (..., 1), and where it fell back (..., 1)."""
    cross = torch.linalg.cross(t, d, dim=-1)
    squared = cross.square().sum(-1, keepdim=True)
    degenerate = squared <= (AXIS_TOLERANCE ** 2) * d.square().sum(-1, keepdim=True)
    norm = torch.where(degenerate, torch.ones_like(squared), squared).sqrt()
    return torch.where(degenerate, _perpendicular(t), cross / norm), norm, degenerate


def pelvis_rotation(targets: torch.Tensor, rest_joints: torch.Tensor,
                    weights: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 3, 3) the rotation best mapping the pelvis' rest child bones onto the target ones (weighted Kabsch with
    the determinant fix); targets (B, 24, 3), rest_joints (24, 3) or (B, 24, 3), weights (3,) or (B, 3) for
    PELVIS_CHILDREN (default equal). Exact when the targets come from FK on these rest joints; its gradient (through
    the SVD) is finite while M's singular values are distinct, as for any three non-coplanar bones."""
    _check_targets(targets)
    check_skeleton(rest_joints)
    children = list(PELVIS_CHILDREN)
    rest = rest_joints.to(targets)
    rest_bones = (rest[..., children, :] - rest[..., :1, :]).expand(targets.shape[0], -1, -1)
    target_bones = targets[:, children] - targets[:, :1]
    if weights is not None:
        if weights.shape[-1] != len(children) or weights.ndim not in (1, 2) or not torch.isfinite(weights).all() \
                or bool((weights < 0).any()):
            raise ValueError(f"pelvis weights must be finite, non-negative, shaped (3,) or (B, 3), "
                             f"got {tuple(weights.shape)}")
        target_bones = target_bones * weights.to(targets).reshape(-1, len(children), 1)
    u, _, vh = torch.linalg.svd(target_bones.transpose(1, 2) @ rest_bones)  # M = sum_c w_c D_c b_c^T
    one = torch.ones_like(u[:, 0, 0])
    fix = torch.stack([one, one, torch.linalg.det(u @ vh)], -1)
    return (u * fix[:, None, :]) @ vh


def _check_targets(targets: torch.Tensor) -> None:
    if not isinstance(targets, torch.Tensor) or targets.ndim != 3 or targets.shape[1:] != (NUM_JOINTS, 3):
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"IKOL's target joints must have shape (B, {NUM_JOINTS}, 3), got {shape}")
    if not torch.isfinite(targets).all():
        raise ValueError("IKOL's target joints contain NaN or infinite values")


def _twist_pairs(twist: torch.Tensor, batch: int) -> torch.Tensor:
    """(B, 18, 2) normalised (cos, sin) from angles (B, 18) or (cos, sin) pairs (B, 18, 2)."""
    if twist.shape == (batch, NUM_SWING):
        if not torch.isfinite(twist).all():
            raise ValueError("IKOL's twist angles contain NaN or infinite values")
        return twist_cos_sin(twist)
    if twist.shape != (batch, NUM_SWING, 2):
        raise ValueError(f"IKOL's twist must be angles ({batch}, {NUM_SWING}) or (cos, sin) pairs "
                         f"({batch}, {NUM_SWING}, 2), got {tuple(twist.shape)}")
    norm = twist.norm(dim=-1, keepdim=True)
    if not torch.isfinite(twist).all() or bool((norm < 1e-12).any()):
        raise ValueError("IKOL's twist (cos, sin) pairs must be finite and not zero")
    return twist / norm


def _unit_rest_bones(rest_joints: torch.Tensor) -> torch.Tensor:
    """(..., 18, 3) t_i = normalize(rest[main child] - rest[i]) of the swing joints."""
    bones = rest_joints[..., [MAIN_CHILD[j] for j in SWING_JOINTS], :] - rest_joints[..., list(SWING_JOINTS), :]
    return bones / bones.norm(dim=-1, keepdim=True)


def swing_inputs(targets: torch.Tensor, twist: torch.Tensor, rest_joints: torch.Tensor) -> SwingInputs:
    """Validated inputs of f: targets (B, 24, 3) in metres (made root-relative here), twist as angles (B, 18) or
    (cos, sin) (B, 18, 2) (normalised here), rest_joints (24, 3) or (B, 24, 3); the pelvis in closed form."""
    _check_targets(targets)
    check_skeleton(rest_joints)
    batch = targets.shape[0]
    if rest_joints.ndim == 3 and rest_joints.shape[0] not in (1, batch):
        raise ValueError(f"IKOL's rest joints have batch size {rest_joints.shape[0]} but the targets have {batch}")
    targets = targets - targets[:, :1]
    rest = rest_joints.to(targets)
    bones = _unit_rest_bones(rest)
    return SwingInputs(targets, _twist_pairs(twist.to(targets), batch), rest,
                       bones if bones.ndim == 3 else bones[None], pelvis_rotation(targets, rest))


def local_rotations(alpha: torch.Tensor, inputs: SwingInputs) -> torch.Tensor:
    """(B, 24, 3, 3) the layer's local rotations at swing angles alpha (B, 18): the pelvis in closed form, swing
    joints R_sw(alpha) R_tw(phi) down the tree (each axis from its parent's current global rotation), leaves I."""
    return _descend(alpha, inputs, tangents=False)[0]


def _descend(alpha: torch.Tensor, inputs: SwingInputs, tangents: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The local rotations (B, 24, 3, 3) and, with `tangents`, each joint's turn (B, 18, 24, 3): the global angular
    velocity nu_i of joint i's subtree about p_i relative to its parent's, per unit change of each swing angle.

    With G_i = G_p R_sw(alpha_i, n_i) R_tw and dG_k = [Omega_k]x G_k: the parent's frame turns by
    w = G_p^T Omega_p, so d_i changes by -(w x d_i) and n_i = normalize(t_i x d_i) by
    dn = (I - n n^T) (t_i x dd) / |t_i x d_i| (0 on the fallback axis); the swing's left-trivialised derivative
    is eta = dalpha_i n + sin(alpha_i) dn + (1 - cos(alpha_i)) n x dn, and nu_i = G_p eta, Omega_i = Omega_p + nu_i."""
    batch = inputs.targets.shape[0]
    globals_ = {0: inputs.pelvis}
    rotations = [inputs.pelvis[:, None]]
    velocities = {0: alpha.new_zeros(batch, NUM_SWING, 3)}  # Omega, read only with tangents
    turns = []
    for joints, slots, parents, children in SWING_LEVELS:
        parent_globals = torch.stack([globals_[p] for p in parents], 1)  # (B, L, 3, 3)
        target_bones = inputs.targets[:, children] - inputs.targets[:, joints]
        local_targets = (parent_globals.transpose(-1, -2) @ target_bones[..., None]).squeeze(-1)
        t = inputs.rest_bones[:, slots].expand(batch, -1, -1)
        axis, cross_norm, degenerate = _swing_axis(t, local_targets)
        cos, sin = alpha[:, slots].cos(), alpha[:, slots].sin()
        twist = inputs.twist[:, slots]
        level = axis_rotation(axis, cos, sin) @ axis_rotation(t, twist[..., 0], twist[..., 1])
        globals_.update(zip(joints, (parent_globals @ level).unbind(1)))
        rotations.append(level)
        if tangents:
            parent_velocities = torch.stack([velocities[p] for p in parents], 2)  # (B, 18, L, 3)
            turned = torch.einsum("blji,bclj->bcli", parent_globals, parent_velocities)  # w = G_p^T Omega_p
            change = torch.linalg.cross(t[:, None], -torch.linalg.cross(turned, local_targets[:, None], dim=-1),
                                        dim=-1)  # t x dd
            n = axis[:, None]
            dn = torch.where(degenerate[:, None], 0.0, (change - n * (n * change).sum(-1, keepdim=True))
                             / cross_norm[:, None])
            eta = (sin[:, None, :, None] * dn + (1 - cos)[:, None, :, None] * torch.linalg.cross(n, dn, dim=-1)
                   + _DIRECT[:, slots, None].to(alpha) * n)
            turn = torch.einsum("blij,bclj->bcli", parent_globals, eta)
            velocities.update(zip(joints, (parent_velocities + turn).unbind(2)))
            turns.append(turn)
    leaves = torch.eye(3, dtype=alpha.dtype, device=alpha.device).expand(batch, len(LEAF_JOINTS), 3, 3)
    local = torch.cat(rotations + [leaves], 1)[:, _SMPL_ORDER]
    if not tangents:
        return local, None
    zero = alpha.new_zeros(batch, NUM_SWING, 1 + len(LEAF_JOINTS), 3)
    return local, torch.cat([zero[:, :, :1]] + turns + [zero[:, :, 1:]], 2)[:, :, _SMPL_ORDER]


def swing_forward(alpha: torch.Tensor, inputs: SwingInputs) -> torch.Tensor:
    """f(alpha): the joints (B, 24, 3), root at the origin, of the layer's rotations at swing angles alpha (B, 18)."""
    return kinematics.forward_kinematics(local_rotations(alpha, inputs), inputs.rest_joints)


def _check_alpha(alpha: torch.Tensor, batch: int) -> None:
    if alpha.shape != (batch, NUM_SWING):
        raise ValueError(f"IKOL's swing angles must have shape ({batch}, {NUM_SWING}), got {tuple(alpha.shape)}")


def gauss_newton_step(alpha: torch.Tensor, inputs: SwingInputs, damping: float = DAMPING,
                      constant_jacobian: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One IKOL iteration from swing angles alpha (B, 18): returns alpha + delta, the residual r = f(alpha) - P
    (B, 72) in metres and delta = -(J^T J + u I)^-1 J^T r (B, 18), J = dr / dalpha (swing_jacobian)."""
    _check_alpha(alpha, inputs.targets.shape[0])
    if not (math.isfinite(damping) and damping > 0):
        raise ValueError(f"IKOL's damping u must be a positive finite number, got {damping}")
    joints, jacobian = _linearize(alpha, inputs)
    r = (joints - inputs.targets).flatten(1)
    if constant_jacobian:
        jacobian = jacobian.detach()
    transposed = jacobian.transpose(1, 2)
    normal = transposed @ jacobian + damping * torch.eye(NUM_SWING, dtype=alpha.dtype, device=alpha.device)
    delta = -torch.linalg.solve(normal, transposed @ r[..., None]).squeeze(-1)
    return alpha + delta, r, delta


def swing_jacobian(alpha: torch.Tensor, inputs: SwingInputs) -> torch.Tensor:
    """(B, 72, 18) d f(alpha).flatten(1) / d alpha, analytic (_descend): a change of the swing angles turns each
    swing joint j's subtree about p_j by nu_j, so d p_k = sum over the swing joints j above k of nu_j x (p_k - p_j)."""
    _check_alpha(alpha, inputs.targets.shape[0])
    return _linearize(alpha, inputs)[1]


def _linearize(alpha: torch.Tensor, inputs: SwingInputs) -> tuple[torch.Tensor, torch.Tensor]:
    """f(alpha) (B, 24, 3) and its Jacobian (B, 72, 18) from one pass down the tree."""
    rotations, turns = _descend(alpha, inputs, tangents=True)
    joints = kinematics.forward_kinematics(rotations, inputs.rest_joints)
    below, above = _BELOW.to(alpha.device), _ABOVE.to(alpha.device)
    arms = (joints[:, below] - joints[:, above])[:, None].expand(-1, NUM_SWING, -1, -1)  # p_k - p_j
    moves = torch.linalg.cross(turns[:, :, above], arms, dim=-1)  # (B, 18, pairs, 3)
    change = joints.new_zeros(joints.shape[0], NUM_SWING, NUM_JOINTS, 3).index_add(2, below, moves)
    return joints, change.permute(0, 2, 3, 1).reshape(joints.shape[0], 3 * NUM_JOINTS, NUM_SWING)


@dataclass(frozen=True)
class IKOLResult:
    """The layer's swing angles after each iteration (alphas[0] = 0) and what they were fitted to."""

    alphas: tuple[torch.Tensor, ...]
    """iterations + 1 tensors (B, 18)."""
    residuals: tuple[torch.Tensor, ...]
    """(B, 72) r = f(alpha_k) - P in metres for k = 0 .. iterations - 1 (the ones each step was taken from)."""
    inputs: SwingInputs

    def rotations(self, iteration: int = -1) -> torch.Tensor:
        """(B, 24, 3, 3) local rotations after `iteration` steps (default: the last)."""
        return local_rotations(self.alphas[iteration], self.inputs)

    def x(self, iteration: int = -1) -> torch.Tensor:
        """(B, 72) axis-angle of rotations(iteration), for records and the ik problem's metrics."""
        return kinematics.x_from_rotations(self.rotations(iteration))

    def joints(self, iteration: int = -1) -> torch.Tensor:
        """(B, 24, 3) f(alpha) after `iteration` steps."""
        return swing_forward(self.alphas[iteration], self.inputs)


def ikol_layer(targets: torch.Tensor, twist: torch.Tensor, rest_joints: torch.Tensor, damping: float = DAMPING,
               iterations: int = ITERATIONS, constant_jacobian: bool = False) -> IKOLResult:
    """IKOL: swing angles fitted to target joints (B, 24, 3) given the twist, angles (B, 18) or (cos, sin)
    (B, 18, 2), on rest joints (24, 3) or (B, 24, 3); damped Gauss-Newton from alpha = 0 (module docstring).
    Differentiable w.r.t. targets, twist and rest joints; constant_jacobian=True treats each J as a constant in
    backward (IKOL's training mode), leaving the forward values unchanged."""
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"IKOL's iterations must be a whole number >= 0, got {iterations!r}")
    inputs = swing_inputs(targets, twist, rest_joints)
    alphas = [inputs.targets.new_zeros(targets.shape[0], NUM_SWING)]
    residuals = []
    for _ in range(iterations):
        alpha, residual, _ = gauss_newton_step(alphas[-1], inputs, damping, constant_jacobian)
        alphas.append(alpha)
        residuals.append(residual)
    return IKOLResult(tuple(alphas), tuple(residuals), inputs)


def swing_twist(x: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The swing-twist decomposition (Baerlocher-Boulic) of each swing joint's rotation in x (B, 72) about its
    unit rest bone t: R = R_sw R_tw with R_tw about t and R_sw about an axis perpendicular to t. Returns the swing
    angles (B, 18) in [0, pi] (the angle between t and R t, about normalize(t x R t)) and the twist angles (B, 18)
    in (-pi, pi] (twist quaternion (w, (v.t) t) of R's quaternion (w, v), w >= 0). For targets of supervision:
    the swing angle's gradient is undefined where it is 0."""
    if x.ndim != 2 or x.shape[1] != 3 * NUM_JOINTS:
        raise ValueError(f"poses to decompose must have shape (B, {3 * NUM_JOINTS}) (axis-angle per joint), "
                         f"got {tuple(x.shape)}")
    check_skeleton(rest_joints)
    t = _unit_rest_bones(rest_joints.to(x))
    q = kinematics.exp_quaternion(x.reshape(x.shape[0], NUM_JOINTS, 3)[:, list(SWING_JOINTS)])
    q = torch.where(q[..., :1] < 0, -q, q)
    twist = 2.0 * torch.atan2((q[..., 1:] * t).sum(-1), q[..., 0])
    turned = (kinematics.rotations_from_x(x)[:, list(SWING_JOINTS)] @ t[..., None]).squeeze(-1)  # R t
    swing = torch.atan2(torch.linalg.cross(t.expand_as(turned), turned, dim=-1).norm(dim=-1), (t * turned).sum(-1))
    return swing, twist
