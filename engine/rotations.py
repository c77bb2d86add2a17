"""Unit quaternions (w, x, y, z) and rotation matrices, batch-first."""
from __future__ import annotations

import math

import torch


def _check_quaternion(q: torch.Tensor) -> None:
    if q.shape[-1] != 4:
        raise ValueError(f"quaternions must have shape (..., 4) as (w, x, y, z), got {tuple(q.shape)}")


def normalize_quaternion(q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    _check_quaternion(q)
    return q / q.norm(dim=-1, keepdim=True).clamp(min=eps)


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4); the quaternion is normalised first."""
    w, x, y, z = normalize_quaternion(q).unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]
    return torch.stack(rows, dim=-1).reshape(q.shape[:-1] + (3, 3))


def quaternion_from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (..., 4) for rotations by angle (..., ) radians about axis (..., 3)."""
    if axis.shape[-1] != 3:
        raise ValueError(f"axis must have shape (..., 3), got {tuple(axis.shape)}")
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    half = 0.5 * angle
    return torch.cat([torch.cos(half)[..., None], torch.sin(half)[..., None] * axis], dim=-1)


def rotation_angle_between(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Angle in radians (...,) of the rotation taking q1 to q2; q and -q are the same rotation."""
    dot = (normalize_quaternion(q1) * normalize_quaternion(q2)).sum(-1).abs().clamp(max=1.0)
    return 2.0 * torch.acos(dot)


def random_axis_angle_quaternions(
    n: int, min_deg: float, max_deg: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """n unit quaternions (n, 4): axis uniform on the sphere, |angle| uniform in [min_deg, max_deg], random sign."""
    axis = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    magnitude = torch.empty(n, dtype=torch.float64).uniform_(min_deg, max_deg, generator=generator)
    sign = torch.where(torch.rand(n, generator=generator, dtype=torch.float64) < 0.5, -1.0, 1.0)
    return quaternion_from_axis_angle(axis, sign * magnitude * math.pi / 180.0).float()


def quaternion_multiply(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Hamilton product q1 * q2 (..., 4): the rotation q2 followed by q1."""
    _check_quaternion(q1)
    _check_quaternion(q2)
    w1, x1, y1, z1 = q1.unbind(-1)
    w2, x2, y2, z2 = q2.unbind(-1)
    return torch.stack([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ], dim=-1)


def quaternion_conjugate(q: torch.Tensor) -> torch.Tensor:
    """The inverse rotation of unit quaternions (..., 4)."""
    _check_quaternion(q)
    return q * q.new_tensor([1.0, -1.0, -1.0, -1.0])


def quaternion_from_rotation_vector(rotation_vector: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (..., 4) of rotation vectors (..., 3) (axis times angle in radians; zero is fine)."""
    angle = rotation_vector.norm(dim=-1)
    return quaternion_from_axis_angle(rotation_vector, angle)


def quaternion_to_rotation_vector(q: torch.Tensor) -> torch.Tensor:
    """Rotation vectors (..., 3) of quaternions (..., 4), angle in [0, pi] (q and -q give the same vector)."""
    q = normalize_quaternion(q)
    q = torch.where(q[..., :1] < 0, -q, q)
    sine = q[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sine, q[..., :1])
    return q[..., 1:] * torch.where(sine > 1e-8, angle / sine.clamp(min=1e-12), torch.full_like(sine, 2.0))


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of axis-angle vectors (..., 3) (direction = axis, norm = angle in radians);
    differentiable at zero too (exp_quaternion), so a joint at rest gets its gradient."""
    if axis_angle.shape[-1] != 3:
        raise ValueError(f"axis-angle vectors must have shape (..., 3), got {tuple(axis_angle.shape)}")
    return quaternion_to_matrix(exp_quaternion(axis_angle))


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (..., 4), w >= 0, of rotation matrices (..., 3, 3); stable for every angle."""
    if matrix.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrices must have shape (..., 3, 3), got {tuple(matrix.shape)}")
    m = matrix
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    # Four candidate quaternions, each accurate where its leading component is large; keep the best one.
    candidates = torch.stack([
        torch.stack([1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0],
                     m[..., 1, 0] - m[..., 0, 1]], -1),
        torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + 2 * m[..., 0, 0] - trace, m[..., 0, 1] + m[..., 1, 0],
                     m[..., 0, 2] + m[..., 2, 0]], -1),
        torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 + 2 * m[..., 1, 1] - trace,
                     m[..., 1, 2] + m[..., 2, 1]], -1),
        torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1],
                     1 + 2 * m[..., 2, 2] - trace], -1),
    ], dim=-2)
    leading = torch.stack([1 + trace, 1 + 2 * m[..., 0, 0] - trace, 1 + 2 * m[..., 1, 1] - trace,
                           1 + 2 * m[..., 2, 2] - trace], -1)
    best = leading.argmax(-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand(best.shape + (1, 4))).squeeze(-2)
    q = normalize_quaternion(q)
    return torch.where(q[..., :1] < 0, -q, q)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Axis-angle vectors (..., 3), angle in [0, pi], of rotation matrices (..., 3, 3)."""
    return quaternion_to_rotation_vector(matrix_to_quaternion(matrix))


def euler_to_matrix(angles: torch.Tensor, order: str) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of intrinsic Euler angles (..., 3) in radians applied in `order`
    (e.g. 'ZXY': R = Rz(a0) Rx(a1) Ry(a2)), the convention of BVH channels; Blender's extrinsic 'XYZ' is the
    intrinsic 'ZYX' of the reversed angles."""
    order = order.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"Euler order must be a permutation of XYZ, got {order!r}")
    if angles.shape[-1] != 3:
        raise ValueError(f"Euler angles must have shape (..., 3), got {tuple(angles.shape)}")
    basis = torch.eye(3, dtype=angles.dtype, device=angles.device)
    matrix = None
    for i, axis in enumerate(order):
        rotation = axis_angle_to_matrix(basis["XYZ".index(axis)] * angles[..., i : i + 1])
        matrix = rotation if matrix is None else matrix @ rotation
    return matrix


def rotation_from_6d(sixd: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotations whose first two columns are the Gram-Schmidt orthonormalisation of (..., 6)."""
    a, b = sixd[..., :3], sixd[..., 3:]
    first = torch.nn.functional.normalize(a, dim=-1)
    second = torch.nn.functional.normalize(b - (first * b).sum(-1, keepdim=True) * first, dim=-1)
    return torch.stack([first, second, torch.cross(first, second, dim=-1)], dim=-1)


def rotation_to_6d(rotations: torch.Tensor) -> torch.Tensor:
    """(..., 6) the first two columns of rotations (..., 3, 3)."""
    return torch.cat([rotations[..., :, 0], rotations[..., :, 1]], dim=-1)


def exp_quaternion(rotation_vectors: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (..., 4) (w, x, y, z) of rotation vectors (..., 3); smooth at zero."""
    squared = (rotation_vectors * rotation_vectors).sum(-1, keepdim=True)
    small = squared < 1e-6
    angle = torch.sqrt(torch.where(small, torch.ones_like(squared), squared))
    # sin(angle / 2) / angle and cos(angle / 2), Taylor series below 1e-3 rad (errors ~1e-19)
    sinc = torch.where(small, 0.5 - squared / 48.0, torch.sin(0.5 * angle) / angle)
    cos = torch.where(small, 1.0 - squared / 8.0, torch.cos(0.5 * angle))
    return torch.cat([cos, sinc * rotation_vectors], dim=-1)


def log_quaternion(q: torch.Tensor) -> torch.Tensor:
    """Rotation vectors (..., 3), angle in [0, pi], of unit quaternions (..., 4); q and -q give the same."""
    q = torch.where(q[..., :1] < 0, -q, q)
    w, v = q[..., :1], q[..., 1:]
    squared = (v * v).sum(-1, keepdim=True)
    small = squared < 1e-6
    sine = torch.sqrt(torch.where(small, torch.ones_like(squared), squared))
    # angle / sine = 2 atan2(s, w) / s, whose series for small s is (2 / w) (1 - s^2 / (3 w^2))
    w_safe = torch.where(small, w, torch.ones_like(w))
    scale = torch.where(small, 2.0 / w_safe * (1.0 - squared / (3.0 * w_safe * w_safe)),
                        2.0 * torch.atan2(sine, w) / sine)
    return scale * v


def retract_rotation_vectors(x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """log(exp(x) exp(dx)) of rotation vectors (..., 3): the increment dx applied on the right, in the rotation's
    own frame; smooth at zero, angles of the result in [0, pi]."""
    return log_quaternion(quaternion_multiply(exp_quaternion(x), exp_quaternion(dx)))


def right_jacobian_inverse(rotation_vectors: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) d log(exp(phi) exp(w)) / d w at w = 0 of rotation vectors phi (..., 3): SO(3)'s inverse right
    Jacobian I + [phi]/2 + (1/a^2 - (1 + cos a) / (2 a sin a)) [phi]^2, a = |phi| (series below 1e-3 rad)."""
    squared = (rotation_vectors * rotation_vectors).sum(-1)[..., None, None]
    small = squared < 1e-6
    angle = torch.sqrt(torch.where(small, torch.ones_like(squared), squared))
    factor = torch.where(small, 1.0 / 12.0 + squared / 720.0,
                         1.0 / (angle * angle) - (1.0 + torch.cos(angle)) / (2.0 * angle * torch.sin(angle)))
    x, y, z = rotation_vectors.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([torch.stack([zero, -z, y], -1), torch.stack([z, zero, -x], -1),
                        torch.stack([-y, x, zero], -1)], -2)
    eye = torch.eye(3, dtype=rotation_vectors.dtype, device=rotation_vectors.device)
    return eye + 0.5 * skew + factor * skew @ skew
