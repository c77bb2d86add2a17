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
