"""Toy problems for the generic solvers: the prediction is f(x) (B, R), the residuals f(x) - observation and
the energy their squared sum, so every toy offers both the differentiable and the residual capability."""
from __future__ import annotations

import torch

from engine.problems.spec import ArraySpec


class ResidualToy:
    """Base: subclasses define `predict(x)` (B, R) over their own per-item tensors (listed in `batched`)."""

    batched: tuple[str, ...] = ()
    tangent_dim: int

    def __init__(self, size: int, tangent_dim: int, batch_size: int):
        self.observation_spec = ArraySpec((size,), "toy observation")
        self.tangent_dim = tangent_dim
        self._batch_size = batch_size

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def subset(self, index: torch.Tensor) -> "ResidualToy":
        part = object.__new__(type(self))
        part.__dict__.update(self.__dict__)
        for name in self.batched:
            setattr(part, name, getattr(self, name)[index])
        part._batch_size = int(index.numel())
        return part

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.predict(x)

    def forward_differentiable(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(x)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (prediction - observation).square().sum(1)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        return self.predict(x) - observation

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx

    def metrics(self, x, prediction, observation, ground_truth) -> dict[str, torch.Tensor]:
        return {} if ground_truth is None else {"error": (x - ground_truth).norm(dim=1)}


class LinearToy(ResidualToy):
    """Residuals A x - b with a different A (B, R, D) per item."""

    batched = ("matrix",)

    def __init__(self, matrix: torch.Tensor):
        super().__init__(matrix.shape[1], matrix.shape[2], matrix.shape[0])
        self.matrix = matrix

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return (self.matrix @ x[:, :, None]).squeeze(2)

    def residual_jacobian(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        return self.matrix


class RosenbrockToy(ResidualToy):
    """r = (1 - x0, 10 (x1 - x0^2)) as f(x) = (-x0, 10 (x1 - x0^2)) against the observation RosenbrockToy.TARGET."""

    TARGET = (-1.0, 0.0)
    START = (-1.2, 1.0)

    def __init__(self, batch_size: int):
        super().__init__(2, 2, batch_size)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([-x[:, 0], 10 * (x[:, 1] - x[:, 0].square())], dim=1)

    def residual_jacobian(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        row0 = torch.stack([-torch.ones_like(x[:, 0]), torch.zeros_like(x[:, 0])], dim=1)
        row1 = torch.stack([-20 * x[:, 0], torch.full_like(x[:, 0], 10.0)], dim=1)
        return torch.stack([row0, row1], dim=1)


class RotationToy(ResidualToy):
    """A 2D rotation as a unit vector x = (cos a, sin a) (D = 2, d = 1), retract: rotate by dx. The prediction
    is the rotated points (B, K, 2), flattened."""

    batched = ("points",)

    def __init__(self, points: torch.Tensor):
        super().__init__(points.shape[1] * 2, 1, points.shape[0])
        self.points = points

    @staticmethod
    def from_angle(angle: torch.Tensor) -> torch.Tensor:
        return torch.stack([angle.cos(), angle.sin()], dim=1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        c, s = x[:, 0, None], x[:, 1, None]
        px, py = self.points[..., 0], self.points[..., 1]
        return torch.stack([c * px - s * py, s * px + c * py], dim=2).flatten(1)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        c, s = dx[:, 0].cos(), dx[:, 0].sin()
        return torch.stack([c * x[:, 0] - s * x[:, 1], s * x[:, 0] + c * x[:, 1]], dim=1)

    def residual_jacobian(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        rotated = self.predict(x).unflatten(1, (-1, 2))
        return torch.stack([-rotated[..., 1], rotated[..., 0]], dim=2).flatten(1)[:, :, None]


class ChainToy(ResidualToy):
    """Forward kinematics of a chain of `joints` ball joints (rotation vectors, d = 3 * joints): the prediction
    is every joint's position and a marker beside it (R = 6 * joints), like a body model's joints."""

    batched = ("offsets", "markers")

    def __init__(self, batch_size: int, joints: int = 24, device: str | torch.device = "cpu",
                 generator: torch.Generator | None = None):
        super().__init__(6 * joints, 3 * joints, batch_size)
        self.joints = joints
        self.offsets = (0.1 * torch.randn(batch_size, joints, 3, generator=generator)).to(device)
        self.markers = (0.05 * torch.randn(batch_size, joints, 3, generator=generator)).to(device)

    def _kinematics(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Orientations (B, J, 3, 3) and points (B, 2J, 3): joint j's position, then its marker."""
        rotations = _rodrigues(x.unflatten(1, (self.joints, 3)))
        orientation, position = rotations[:, 0], self.offsets[:, 0]
        orientations, points = [], []
        for joint in range(self.joints):
            if joint:
                orientation = _product(orientation, rotations[:, joint])
                position = position + _apply(orientation, self.offsets[:, joint])
            orientations.append(orientation)
            points += [position, position + _apply(orientation, self.markers[:, joint])]
        return torch.stack(orientations, dim=1), torch.stack(points, dim=1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self._kinematics(x)[1].flatten(1)

    def residual_jacobian(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """Joint i turns everything from its own position on about its parent's position p_{i-1} (p_0 for the
        root), by the world axis w = O_i J_r(theta_i) dtheta_i: dq = w x (q - pivot_i)."""
        orientations, points = self._kinematics(x)
        positions = points[:, 0::2]
        pivots = torch.cat([positions[:, :1], positions[:, :-1]], dim=1)  # (B, J, 3)
        axes = _product(orientations, _right_jacobian(x.unflatten(1, (self.joints, 3)))).transpose(-1, -2)
        arms = (points[:, :, None] - pivots[:, None])[:, :, :, None]  # (B, 2J, J, 1, 3)
        columns = torch.linalg.cross(axes[:, None].expand(-1, points.shape[1], -1, -1, -1), arms.expand_as(
            axes[:, None].expand(-1, points.shape[1], -1, -1, -1)), dim=-1)  # (B, 2J, J, 3 dtheta, 3 xyz)
        downstream = (torch.arange(points.shape[1], device=x.device)[:, None] // 2
                      >= torch.arange(self.joints, device=x.device)[None])
        columns = columns * downstream[None, :, :, None, None]
        return columns.permute(0, 1, 4, 2, 3).reshape(x.shape[0], -1, x.shape[1])


def _product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched 3x3 products, elementwise (torch's bmm is slow for tiny matrices on the CPU)."""
    return (a[..., :, :, None] * b[..., None, :, :]).sum(-2)


def _apply(matrix: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    return (matrix * vector[..., None, :]).sum(-1)


def _hat(vectors: torch.Tensor) -> torch.Tensor:
    x, y, z = vectors.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).unflatten(-1, (3, 3))


def _angle_axis(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    angle = (vectors.square().sum(-1, keepdim=True) + 1e-12).sqrt()  # smooth at 0
    return angle[..., None], _hat(vectors / angle)


def _rodrigues(vectors: torch.Tensor) -> torch.Tensor:
    """(..., 3) rotation vectors to (..., 3, 3) matrices."""
    angle, cross = _angle_axis(vectors)
    eye = torch.eye(3, device=vectors.device, dtype=vectors.dtype)
    return eye + angle.sin() * cross + (1 - angle.cos()) * _product(cross, cross)


def _right_jacobian(vectors: torch.Tensor) -> torch.Tensor:
    """J_r with R(theta + d) ~ R(theta) exp(J_r(theta) d)."""
    angle, cross = _angle_axis(vectors)
    eye = torch.eye(3, device=vectors.device, dtype=vectors.dtype)
    return eye - (1 - angle.cos()) / angle * cross + (1 - angle.sin() / angle) * _product(cross, cross)


def rotation_angle(x: torch.Tensor) -> torch.Tensor:
    return torch.atan2(x[:, 1], x[:, 0])
