"""A 2D slice of a problem's energy around an estimate, for teaching: which way is downhill, where the valleys
and the ambiguities are, and how each solver's path crosses them.

The axes are the problem's SliceAxis entries (its spec's slice_axes), each moving an estimate along one
physical direction in display units. A solver's path is projected onto the slice's coordinates; the other
parameters of a path point generally differ from the centre's, so a path is a guide across the landscape,
not a curve on it.
"""
from __future__ import annotations

import numpy as np
import torch

from .problems.spec import Problem, SliceAxis


def slice_points(center: torch.Tensor, axes: tuple[SliceAxis, SliceAxis], offsets: torch.Tensor) -> torch.Tensor:
    """(N, D) estimates: `center` (D,) moved by `offsets` (N, 2) along the two axes (display units)."""
    _check_axes(axes)
    x = center.reshape(1, -1).repeat(offsets.shape[0], 1)
    for column, axis in enumerate(axes):
        x = axis.move(x, offsets[:, column].to(x))
    return x


def slice_coordinates(path: np.ndarray, center: np.ndarray, axes: tuple[SliceAxis, SliceAxis]) -> np.ndarray:
    """(T, 2) position of each estimate of `path` (T, D) along the slice axes through `center` (D,)."""
    _check_axes(axes)
    path = np.asarray(path, dtype=np.float64).reshape(len(path), -1)
    center = np.asarray(center, dtype=np.float64).reshape(-1)
    return np.stack([axis.coordinate(path, center) for axis in axes], axis=1)


def energy_slice(
    problem: Problem, observation: torch.Tensor, center: torch.Tensor, axes: tuple[SliceAxis, SliceAxis],
    span: tuple[float, float], resolution: int = 15, chunk: int = 64,
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """The energy (of the problem's forward process) on a resolution x resolution grid of offsets in
    [-span, span] along `axes` around `center` (D,).

    `problem` and `observation` hold one item; returns the grid values per axis and the energy (resolution,
    resolution) with rows along the second axis."""
    _check_axes(axes)
    if not 3 <= resolution <= 64:
        raise ValueError(f"slice resolution must be between 3 and 64, got {resolution}")
    if any(not s > 0 for s in span):
        raise ValueError(f"slice span must be positive on both axes, got {span}")
    center = center.detach().cpu().float().reshape(-1)
    first = torch.linspace(-span[0], span[0], resolution)
    second = torch.linspace(-span[1], span[1], resolution)
    grid_second, grid_first = torch.meshgrid(second, first, indexing="ij")
    offsets = torch.stack([grid_first.reshape(-1), grid_second.reshape(-1)], dim=1)
    points = slice_points(center, axes, offsets)
    energies = []
    for start in range(0, len(points), chunk):
        batch = points[start:start + chunk].to(problem.device)
        single = problem.subset(torch.zeros(len(batch), dtype=torch.long))
        prediction = single.forward(batch)
        expanded = observation.expand(len(batch), *observation.shape[1:])
        energies.append(single.energy(prediction, expanded, batch).detach().cpu())
    energy = torch.cat(energies).reshape(resolution, resolution).numpy()
    return (first.numpy(), second.numpy()), energy


def _check_axes(axes: tuple[SliceAxis, SliceAxis]) -> None:
    if len(axes) != 2 or axes[0].key == axes[1].key:
        raise ValueError(f"slice axes must be two different axes, got {[axis.key for axis in axes]}")
