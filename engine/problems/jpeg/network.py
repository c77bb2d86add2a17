"""The jpeg problem's restoration networks: a DnCNN body (Zhang et al. 2017: 3x3 convolutions, ReLU, batch norm
in the middle layers, a residual output), with fewer and narrower layers than DnCNN's 17-20 x 64 by default so
that a checkpoint trains within an hour on two CPU cores (the depth and width are settings of the trainer).

Without feedback the network is DnCNN: y in, x = y + g(y). With feedback it is one step of the deep feedback
restorer: it reads the estimate x_t, its JPEG f(x_t) and the feedback y - f(x_t) (scaled by DIFFERENCE_SCALE,
since it is a few grey levels), and returns x_{t+1} = x_t + g(...).

The last layer starts at LAST_LAYER_GAIN times torch's default initialisation (not at zero: that starves every
earlier layer of gradient for the first hundreds of steps), so an untrained network changes its input little.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..spec import bounded, check_config

DIFFERENCE_SCALE = 4.0
"""The feedback y - f(x_t) is mostly within +-0.1: scaled to the range of the images themselves."""

LAST_LAYER_GAIN = 0.1


@dataclass(frozen=True)
class RestorerConfig:
    """Shape of a restoration network; stored in checkpoints so they rebuild exactly."""

    feedback: bool = True
    """True: a feedback step (x_t, f(x_t), y - f(x_t) in); False: DnCNN (y in)."""
    channels: int = bounded(1, 1, 3)
    """1 grey, 3 RGB."""
    depth: int = bounded(10, 3, 30)
    """Convolution layers (DnCNN's: 17 for denoising, 20 for its blind JPEG model)."""
    width: int = bounded(32, 1, 256)
    """Feature channels of the hidden layers (DnCNN's: 64)."""
    batch_norm: bool = True

    def __post_init__(self) -> None:
        check_config(self, label=str)
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")

    @property
    def inputs(self) -> int:
        return 3 * self.channels if self.feedback else self.channels

    def to_dict(self) -> dict:
        return asdict(self)


class Restorer(nn.Module):
    """conv + ReLU, (depth - 2) x (conv + BN + ReLU), conv: a residual added to the image it restores."""

    problem = "jpeg"
    architecture = "dncnn-body"
    config_class = RestorerConfig

    def __init__(self, config: RestorerConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Conv2d(config.inputs, config.width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(config.depth - 2):
            layers.append(nn.Conv2d(config.width, config.width, 3, padding=1, bias=not config.batch_norm))
            if config.batch_norm:
                layers.append(nn.BatchNorm2d(config.width))
            layers.append(nn.ReLU(inplace=True))
        last = nn.Conv2d(config.width, config.channels, 3, padding=1)
        with torch.no_grad():
            last.weight.mul_(LAST_LAYER_GAIN)
        self.body = nn.Sequential(*layers, last)

    def forward(self, image: torch.Tensor, compressed: torch.Tensor | None = None,
                observation: torch.Tensor | None = None) -> torch.Tensor:
        """DnCNN: the restored image from the observation `image` (N, C, H, W). Feedback: x_{t+1} from
        image = x_t, compressed = f(x_t) and observation = y."""
        channels = self.config.channels
        if image.ndim != 4 or image.shape[1] != channels:
            raise ValueError(f"the network restores (N, {channels}, H, W) images, got {tuple(image.shape)}")
        if not self.config.feedback:
            return image + self.body(image - 0.5)
        if compressed is None or observation is None:
            raise ValueError("a feedback network needs f(x_t) and the observation y")
        features = torch.cat([image - 0.5, compressed - 0.5, DIFFERENCE_SCALE * (observation - compressed)], dim=1)
        return image + self.body(features)
