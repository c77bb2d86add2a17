"""Training data for the learned pose solvers: sampled ground truth, pyrender observations, renderings of the
current estimates. Samples are kept sorted by mesh so that consecutive renders reuse the uploaded mesh."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ...meshes import Mesh
from .problem import Pose6DConfig, Pose6DProblem

RENDER_CHUNK = 256


@dataclass
class PoseDataset:
    """N pose problems over a set of meshes; silhouettes stored as uint8 {0, 1}."""

    meshes: list[Mesh]
    mesh_index: torch.Tensor
    """(N,) which mesh each sample shows."""
    ground_truth: torch.Tensor
    """(N, 7)"""
    observations: torch.Tensor
    """(N, H, W) uint8"""
    config: Pose6DConfig

    def __len__(self) -> int:
        return self.mesh_index.shape[0]

    def problem(self, index: torch.Tensor) -> Pose6DProblem:
        return Pose6DProblem.for_meshes([self.meshes[int(i)] for i in self.mesh_index[index]], config=self.config)

    def render(self, x: torch.Tensor, progress: Callable[[int], None] | None = None) -> torch.Tensor:
        """pyrender silhouettes (N, H, W) uint8 of estimates x (N, 7), in chunks."""
        images = torch.empty((len(self),) + self.observations.shape[1:], dtype=torch.uint8)
        for start in range(0, len(self), RENDER_CHUNK):
            index = torch.arange(start, min(start + RENDER_CHUNK, len(self)))
            images[index] = self.problem(index).forward(x[index]).to(torch.uint8)
            if progress is not None:
                progress(index.numel())
        return images


def make_pose_dataset(
    meshes: list[Mesh], n: int, seed: int, config: Pose6DConfig = Pose6DConfig(),
    rotation_range_deg: tuple[float, float] | None = None, shard: tuple[int, int] = (0, 1),
    progress: Callable[[int], None] | None = None,
) -> PoseDataset:
    """n samples (meshes drawn uniformly, poses from the problem's ground-truth distribution); with shard
    (rank, world) only every world-th sample from rank on is kept and rendered."""
    if n < 1 or not meshes:
        raise ValueError(f"a dataset needs meshes and n >= 1, got {len(meshes)} meshes and n={n}")
    generator = torch.Generator().manual_seed(seed)
    mesh_index = torch.randint(len(meshes), (n,), generator=generator)
    sampler = Pose6DProblem.for_meshes(meshes[0], n, config)
    ground_truth = sampler.sample_ground_truth(generator, rotation_range_deg)
    rank, world = shard
    keep = torch.arange(rank, n, world)
    order = keep[torch.argsort(mesh_index[keep], stable=True)]
    dataset = PoseDataset(meshes, mesh_index[order], ground_truth[order],
                          torch.empty(0, config.image_size, config.image_size, dtype=torch.uint8), config)
    dataset.observations = dataset.render(dataset.ground_truth, progress)
    return dataset
