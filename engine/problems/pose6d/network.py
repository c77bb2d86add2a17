"""The update network g_w of the deep feedback solver: LeNet-like, silhouettes in, parameter update out."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .problem import MAX_IMAGE_SIZE
from ..spec import bounded, check_config


MAX_WIDTH = 128
"""The most channels of the first convolution: wider networks than this take gigabytes at large image sizes."""
MAX_HIDDEN = 2048
"""The widest fully connected layer."""


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of an update network; stored in checkpoints so they rebuild exactly."""

    image_size: int = bounded(128, 32, MAX_IMAGE_SIZE)
    """Input silhouettes are image_size x image_size; must be divisible by 32."""
    feedback: bool = True
    """True: input (y, y_t, y - y_t) as in the paper; False: the deep regression baseline, input y only."""
    parameter_dim: int = bounded(7, 1, 64)
    relative_update: bool = False
    """True: the update is a rotation vector in camera axes and a translation step (6 numbers, applied as
    q_{t+1} = exp(w) q_t); False: added to the quaternion and renormalised (the paper's, and checkpoints made
    before the relative update)."""
    width: int = bounded(16, 1, MAX_WIDTH)
    """Channels of the first convolution; later ones have 2x and 4x."""
    hidden: int = bounded(128, 1, MAX_HIDDEN)
    """Width of the fully connected layer."""

    def __post_init__(self) -> None:
        check_config(self, label=str)
        if self.image_size % 32:
            raise ValueError(f"update networks need an image size (--size) divisible by 32, got {self.image_size}")

    @property
    def in_channels(self) -> int:
        return 3 if self.feedback else 1

    @property
    def update_dim(self) -> int:
        return 6 if self.relative_update else self.parameter_dim

    def to_dict(self) -> dict:
        return asdict(self)


class UpdateNetwork(nn.Module):
    """g_w(x_t, y_t, y): five stride-2 convolutions with batch norm (128 px -> 4 x 4), then two fully connected
    layers that also see the current estimate x_t. The last layer starts at zero, so an untrained step changes
    nothing."""

    problem = "pose6d"
    architecture = "silhouette-cnn"
    config_class = NetworkConfig

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        c = config.width
        channels = [config.in_channels, c, 2 * c, 4 * c, 4 * c, 4 * c]
        kernels = [5, 3, 3, 3, 3]
        layers: list[nn.Module] = []
        for (cin, cout), k in zip(zip(channels, channels[1:]), kernels):
            layers += [nn.Conv2d(cin, cout, k, stride=2, padding=k // 2, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers, nn.Flatten())
        flat = channels[-1] * (config.image_size // 32) ** 2
        self.head = nn.Sequential(
            nn.Linear(flat + config.parameter_dim, config.hidden), nn.ReLU(inplace=True),
            nn.Linear(config.hidden, config.update_dim),
        )
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)
        # Per-parameter spread of the updates it was trained on: the head predicts updates in these units, so
        # that the loss weighs every parameter alike (set from the training targets, saved with the weights).
        self.register_buffer("update_scale", torch.ones(config.update_dim))

    def forward(self, observation: torch.Tensor, rendering: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
        """Update (B, update_dim) from observations y (B, H, W), renderings y_t (B, H, W; None for regression) and x_t."""
        return self.normalized_update(observation, rendering, x) * self.update_scale

    def normalized_update(self, observation: torch.Tensor, rendering: torch.Tensor | None,
                          x: torch.Tensor) -> torch.Tensor:
        """The update in units of update_scale (what training fits)."""
        images = network_input(observation, rendering, self.config.feedback)
        return self.head(torch.cat([self.features(images), x], dim=1))


def network_input(observation: torch.Tensor, rendering: torch.Tensor | None, feedback: bool) -> torch.Tensor:
    """(B, C, H, W): (y, y_t, y - y_t) with feedback, y alone without."""
    if not feedback:
        return observation.unsqueeze(1)
    if rendering is None:
        raise ValueError("a feedback network needs the current rendering y_t")
    return torch.stack([observation, rendering, observation - rendering], dim=1)
