"""k-means clustering, seeded so that the same points give the same clusters on any machine."""
from __future__ import annotations

import torch


def kmeans(points: torch.Tensor, k: int, seed: int = 0, iterations: int = 30) -> torch.Tensor:
    """(N,) cluster labels in [0, k) of points (N, D), N >= k: k-means++ seeding drawn from a generator seeded with
    `seed`, then `iterations` Lloyd steps (an empty cluster keeps its centre)."""
    if not 1 <= k <= len(points):
        raise ValueError(f"k-means needs 1 <= k <= {len(points)} points, got k = {k}")
    generator = torch.Generator().manual_seed(seed)
    centres = points[torch.randint(len(points), (1,), generator=generator)]
    while len(centres) < k:
        distance = torch.cdist(points, centres).min(1).values.square()
        centres = torch.cat([centres, points[torch.multinomial(distance.cpu(), 1, generator=generator)]])
    for _ in range(iterations):
        labels = torch.cdist(points, centres).argmin(1)
        centres = torch.stack([points[labels == i].mean(0) if bool((labels == i).any()) else centres[i]
                               for i in range(k)])
    return torch.cdist(points, centres).argmin(1)
