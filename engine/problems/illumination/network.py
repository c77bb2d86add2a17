"""The illumination problem's update network: an encoder-decoder with skip connections (Sec. 5 of the paper).

It reads the observation y, the rendering f(x_t) and their difference (9 channels; y alone for the regression
baseline), downsampled to `image_size`, and predicts the light update from the encoder's bottleneck together
with x_t; its decoder predicts the object's depth, an auxiliary output that only training uses (the paper:
"we adopt depth prediction as an auxiliary task"). Depth comes out at half the input's resolution, which keeps
the decoder's cost below the encoder's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..spec import bounded, check_config

LEVELS = 4
"""Stride-2 levels of the encoder: the image size must be divisible by 2^LEVELS."""


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of an update network; stored in checkpoints so they rebuild exactly."""

    image_size: int = bounded(64, 16, 512)
    """Input images are downsampled to image_size x image_size (area averaging); divisible by 16."""
    feedback: bool = True
    """True: input (y, f(x_t), y - f(x_t)) and x_t; False: the regression baseline, y alone."""
    width: int = bounded(16, 1, 128)
    """Channels of the first level; deeper levels have 2x, 4x and 8x."""
    hidden: int = bounded(256, 1, 4096)
    """Width of the light head's hidden layer."""

    def __post_init__(self) -> None:
        check_config(self, label=str)
        if self.image_size % 2 ** LEVELS:
            raise ValueError(f"the network's image size must be divisible by {2 ** LEVELS}, got {self.image_size}")

    @property
    def in_channels(self) -> int:
        return 9 if self.feedback else 3

    def to_dict(self) -> dict:
        return asdict(self)


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def network_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 3, size, size) float from (B, H, W, 3) images in [0, 1] (float or uint8), area-downsampled."""
    if images.dtype == torch.uint8:
        images = images.float() / 255.0
    channels_first = images.permute(0, 3, 1, 2).float()
    if channels_first.shape[-1] == size:
        return channels_first
    return nn.functional.interpolate(channels_first, size=(size, size), mode="area")


class LightNetwork(nn.Module):
    """g_w(y, f(x_t), x_t) -> (light update (B, 3), depth (B, S/2, S/2)). The light head's last layer starts at
    zero, so an untrained step changes nothing."""

    problem = "illumination"
    architecture = "unet-light"
    config_class = NetworkConfig

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        c = config.width
        widths = [c, 2 * c, 4 * c, 8 * c, 8 * c]
        self.stem = _block(config.in_channels, widths[0], 1)
        self.down = nn.ModuleList(_block(cin, cout, 2) for cin, cout in zip(widths, widths[1:]))
        bottleneck = widths[-1] * (config.image_size // 2 ** LEVELS) ** 2
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(bottleneck, config.hidden), nn.ReLU(inplace=True))
        self.light = nn.Linear(config.hidden + 3, 3)
        nn.init.zeros_(self.light.weight)
        nn.init.zeros_(self.light.bias)
        # Decoder: from the bottleneck up to half the input size, each level joined with the encoder's (skip).
        self.up = nn.ModuleList(_block(widths[i + 1] + widths[i], widths[i], 1) for i in range(LEVELS - 1, 0, -1))
        self.depth = nn.Conv2d(widths[1], 1, 1)
        # Per-coordinate spread of the updates it was trained on: the head predicts updates in these units (set
        # from the training targets, saved with the weights).
        self.register_buffer("update_scale", torch.ones(3))

    def forward(self, observation: torch.Tensor, rendering: torch.Tensor | None,
                x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Light update (B, 3) and depth (B, S/2, S/2) from observations and renderings (B, H, W, 3) in [0, 1]
        (renderings None for regression) and estimates x_t (B, 3)."""
        levels = [self.stem(network_input(observation, rendering, self.config))]
        for down in self.down:
            levels.append(down(levels[-1]))
        update = self.light(torch.cat([self.head(levels[-1]), x], dim=1))
        features = levels[-1]
        for up, skip in zip(self.up, reversed(levels[1:-1])):
            features = up(torch.cat([nn.functional.interpolate(features, scale_factor=2.0), skip], dim=1))
        return update * self.update_scale, self.depth(features)[:, 0]


def network_input(observation: torch.Tensor, rendering: torch.Tensor | None, config: NetworkConfig) -> torch.Tensor:
    """(B, C, S, S): (y, f(x_t), y - f(x_t)) with feedback, y alone without."""
    y = network_images(observation, config.image_size)
    if not config.feedback:
        return y
    if rendering is None:
        raise ValueError("a feedback network needs the current rendering f(x_t)")
    rendered = network_images(rendering, config.image_size)
    return torch.cat([y, rendered, y - rendered], dim=1)
