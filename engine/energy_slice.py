"""A 2D slice of a pose problem's data energy around an estimate, for teaching: which way is downhill, where
the valleys and the ambiguities are, and how each solver's path crosses them.

Slice axes are rotations about the camera's axes (rx, ry, rz, degrees, applied on top of the centre's
rotation) and translation offsets (tx, ty, tz, metres), so that both axes of the picture mean something
physical. The path of a solver is projected onto the slice's coordinates; the other parameters of a path
point generally differ from the centre's, so a path is a guide across the landscape, not a curve on it.
"""
from __future__ import annotations

import numpy as np
import torch

from .problems.pose6d import Pose6DProblem
from .rotations import (
    quaternion_conjugate,
    quaternion_from_rotation_vector,
    quaternion_multiply,
    quaternion_to_rotation_vector,
)

SLICE_AXES = ("rx", "ry", "rz", "tx", "ty", "tz")
DEFAULT_SPAN = {"rx": 40.0, "ry": 40.0, "rz": 40.0, "tx": 0.25, "ty": 0.25, "tz": 0.5}
"""Half-width of the slice per axis: degrees for rotations, metres for translations."""


def slice_poses(center: torch.Tensor, axes: tuple[str, str], offsets: torch.Tensor) -> torch.Tensor:
    """(N, 7) poses: `center` (7,) moved by `offsets` (N, 2) along the two slice axes (degrees, metres)."""
    _check_axes(axes)
    rotation = torch.zeros(offsets.shape[0], 3, dtype=offsets.dtype)
    translation = center[4:].repeat(offsets.shape[0], 1)
    for column, axis in enumerate(axes):
        index = "xyz".index(axis[1])
        if axis[0] == "r":
            rotation[:, index] = torch.deg2rad(offsets[:, column])
        else:
            translation[:, index] += offsets[:, column]
    quaternion = quaternion_multiply(quaternion_from_rotation_vector(rotation), center[:4].expand(len(offsets), 4))
    return torch.cat([quaternion, translation], dim=1)


def slice_coordinates(path: np.ndarray, center: np.ndarray, axes: tuple[str, str]) -> np.ndarray:
    """(T, 2) position of each pose of `path` (T, 7) along the slice axes through `center` (7,)."""
    _check_axes(axes)
    path_t = torch.as_tensor(path, dtype=torch.float64).reshape(-1, 7)
    center_t = torch.as_tensor(center, dtype=torch.float64).reshape(7)
    relative = quaternion_multiply(path_t[:, :4], quaternion_conjugate(center_t[:4]).expand(len(path_t), 4))
    rotation = torch.rad2deg(quaternion_to_rotation_vector(relative))
    translation = path_t[:, 4:] - center_t[4:]
    columns = [(rotation if axis[0] == "r" else translation)[:, "xyz".index(axis[1])] for axis in axes]
    return torch.stack(columns, dim=1).numpy()


def energy_slice(
    problem: Pose6DProblem, observation: torch.Tensor, center: torch.Tensor, axes: tuple[str, str],
    span: tuple[float, float], resolution: int = 15, chunk: int = 64,
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """The data energy (silhouette difference, rendered by the problem's forward process) on a
    resolution x resolution grid of offsets in [-span, span] along `axes` around `center` (7,).

    `problem` holds one mesh; returns the grid values per axis and the energy (resolution, resolution) with
    rows along the second axis."""
    _check_axes(axes)
    if not 3 <= resolution <= 64:
        raise ValueError(f"slice resolution must be between 3 and 64, got {resolution}")
    if any(not s > 0 for s in span):
        raise ValueError(f"slice span must be positive on both axes, got {span}")
    center = center.detach().cpu().float().reshape(7)
    first = torch.linspace(-span[0], span[0], resolution)
    second = torch.linspace(-span[1], span[1], resolution)
    grid_second, grid_first = torch.meshgrid(second, first, indexing="ij")
    offsets = torch.stack([grid_first.reshape(-1), grid_second.reshape(-1)], dim=1)
    poses = slice_poses(center, axes, offsets)
    energies = []
    for start in range(0, len(poses), chunk):
        batch = poses[start:start + chunk].to(problem.device)
        single = problem.subset(torch.zeros(len(batch), dtype=torch.long))
        rendering = single.render(batch)
        energies.append(single.energy(rendering, observation.expand(len(batch), -1, -1), batch).cpu())
    energy = torch.cat(energies).reshape(resolution, resolution).numpy()
    return (first.numpy(), second.numpy()), energy


def _check_axes(axes: tuple[str, str]) -> None:
    if len(axes) != 2 or axes[0] == axes[1] or any(axis not in SLICE_AXES for axis in axes):
        raise ValueError(f"slice axes must be two different names out of {', '.join(SLICE_AXES)}, got {axes}")
