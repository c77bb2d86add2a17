"""Running the trained restorers on whole images: DnCNN in one step, the feedback restorer step by step with a
real JPEG encode of each estimate. Networks run in overlapping tiles, so memory is bounded whatever the image's
size (a tile's margin covers the network's receptive field, so tiled and whole results agree)."""
from __future__ import annotations

from collections.abc import Callable

import torch

from ...learn.checkpoint import Checkpoint
from .codec import roundtrip_batch

TILE = 256
"""Side of the part of the image one network call restores."""


def apply_in_tiles(function: Callable[..., torch.Tensor], images: list[torch.Tensor], margin: int,
                   tile: int = TILE) -> torch.Tensor:
    """function(*images) of (N, C, H, W) images computed tile by tile, each tile read with `margin` pixels of
    context on every side (where the image has them) and only its inside kept."""
    height, width = images[0].shape[-2:]
    if height <= tile + 2 * margin and width <= tile + 2 * margin:
        return function(*images)
    out = torch.empty_like(images[0])
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            t0, l0 = max(top - margin, 0), max(left - margin, 0)
            t1, l1 = min(top + tile + margin, height), min(left + tile + margin, width)
            part = function(*(image[..., t0:t1, l0:l1] for image in images))
            bottom, right = min(top + tile, height), min(left + tile, width)
            out[..., top:bottom, left:right] = part[..., top - t0:bottom - t0, left - l0:right - l0]
    return out


def receptive_margin(checkpoint: Checkpoint) -> int:
    """Pixels of context a restorer's output depends on: one per 3 x 3 convolution."""
    return int(checkpoint.networks[0].config.depth)


def restorer_step(checkpoint: Checkpoint, step: int, x: torch.Tensor, compressed: torch.Tensor,
                  observed: torch.Tensor, tile: int = TILE) -> torch.Tensor:
    """x_{t+1} (N, C, H, W) of step `step`'s network: DnCNN's from y alone, the feedback restorer's from x_t, its
    JPEG f(x_t) and y. A grey network restores colour images channel by channel."""
    network = checkpoint.network_for_step(step).to(x.device)
    images = [observed] if not network.config.feedback else [x, compressed, observed]
    channels = network.config.channels
    if images[0].shape[1] != channels:
        if channels != 1:
            raise ValueError(f"a {channels}-channel restorer cannot restore {images[0].shape[1]}-channel images")
        batch = len(x)
        images = [image.reshape(-1, 1, *image.shape[-2:]) for image in images]
        with torch.no_grad():
            restored = apply_in_tiles(network, images, receptive_margin(checkpoint), tile)
        return restored.reshape(batch, -1, *restored.shape[-2:]).clamp(0.0, 1.0)
    with torch.no_grad():
        return apply_in_tiles(network, images, receptive_margin(checkpoint), tile).clamp(0.0, 1.0)


def restore_steps(checkpoint: Checkpoint, observed: torch.Tensor, quality: int, steps: int | None = None,
                  tile: int = TILE) -> list[torch.Tensor]:
    """The estimates x_1 ... x_T of a checkpoint's restorer for JPEGs y (N, C, H, W) of this quality: DnCNN
    gives one; the feedback restorer T (its steps, or `steps`), each from x_t, f(x_t) and y."""
    if not checkpoint.networks[0].config.feedback:
        return [restorer_step(checkpoint, 0, observed, observed, observed, tile)]
    estimates: list[torch.Tensor] = []
    x = observed
    for step in range(steps or checkpoint.steps):
        x = restorer_step(checkpoint, step, x, roundtrip_batch(x, quality), observed, tile)
        estimates.append(x)
    return estimates
