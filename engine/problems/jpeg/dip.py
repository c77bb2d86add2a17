"""Deep Image Prior (Ulyanov et al. 2018) for JPEG deblocking: an encoder-decoder with skip connections, its
weights fitted by Adam to the one observed JPEG from a fixed random input; the network's structure fits the image
before it fits the blocks, so the iterations pass through cleaner images than the observation, and the fit is
stopped early (the DIP paper's JPEG experiment stops at 2,400 iterations; its rule is a fixed budget, not a
criterion on the image). The input is perturbed by a little noise at each iteration, as the paper's.

The default network is narrower than the paper's (128 channels per level) so that one image fits in minutes on
a CPU; its levels and width are settings.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..spec import bounded, check_config

INPUT_CHANNELS = 32
INPUT_SCALE = 0.1
"""The paper's input: uniform noise in [0, 0.1]."""
INPUT_JITTER = 1.0 / 30.0
"""Standard deviation of the noise added to the input at each iteration (the paper's regularisation)."""


@dataclass(frozen=True)
class DipSettings:
    iterations: int = bounded(2400, 1, 100_000)
    """Adam steps (the DIP paper's 2,400 for JPEG)."""
    learning_rate: float = bounded(0.01, 0.0, 1.0, low_open=True)
    levels: int = bounded(4, 1, 6)
    """Down-sampling levels of the encoder (the paper's 5)."""
    width: int = bounded(32, 4, 256)
    """Channels per level (the paper's 128)."""
    skip: int = bounded(4, 0, 64)
    """Channels of each skip connection (the paper's 4)."""
    seed: int = bounded(0, 0, 2**31 - 1)

    def __post_init__(self) -> None:
        check_config(self, label=lambda name: f"dip {name.replace('_', ' ')}")


def _block(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, padding_mode="reflect"),
                         nn.BatchNorm2d(outputs), nn.LeakyReLU(0.2, inplace=True))


class SkipNetwork(nn.Module):
    """The paper's 'skip' architecture: per level a strided conv block and a conv block down, a skip branch, and on
    the way up bilinear up-sampling, concatenation with the skip and two conv blocks; a sigmoid image out."""

    def __init__(self, channels: int, settings: DipSettings):
        super().__init__()
        self.down = nn.ModuleList()
        self.skips = nn.ModuleList()
        self.up = nn.ModuleList()
        inputs = INPUT_CHANNELS
        for _ in range(settings.levels):
            self.down.append(nn.Sequential(_block(inputs, settings.width, 2), _block(settings.width, settings.width)))
            self.skips.append(_block(inputs, settings.skip) if settings.skip else nn.Identity())
            inputs = settings.width
        for _ in range(settings.levels):
            self.up.append(nn.Sequential(_block(settings.width + settings.skip, settings.width),
                                         _block(settings.width, settings.width)))
        self.skip_channels = settings.skip
        self.out = nn.Conv2d(settings.width, channels, 1)
        self.levels = settings.levels

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        skips, x = [], z
        for down, skip in zip(self.down, self.skips):
            skips.append(skip(x) if self.skip_channels else x[:, :0])
            x = down(x)
        for up, skipped in zip(self.up, reversed(skips)):
            x = nn.functional.interpolate(x, size=skipped.shape[-2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, skipped], dim=1))
        return torch.sigmoid(self.out(x))


class DipFit:
    """One image's fit: the network, its fixed input z, Adam, and the input noise's generator."""

    def __init__(self, observed: torch.Tensor, settings: DipSettings = DipSettings()):
        check_dip_input(observed, settings)
        self.observed = observed
        self.generator = torch.Generator().manual_seed(settings.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)
            self.network = SkipNetwork(observed.shape[1], settings).to(observed.device)
        self.z = (torch.rand((1, INPUT_CHANNELS, *observed.shape[-2:]), generator=self.generator)
                  * INPUT_SCALE).to(observed)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=settings.learning_rate)
        self.network.train()

    def step(self) -> torch.Tensor:
        """One Adam step on ||net(z + jitter) - y||^2; the network's image (1, C, H, W) at it."""
        jitter = torch.randn(self.z.shape, generator=self.generator).to(self.z) * INPUT_JITTER
        with torch.enable_grad():
            estimate = self.network(self.z + jitter)
            loss = (estimate - self.observed).square().mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        self.optimizer.step()
        return estimate.detach()


def dip_iterations(observed: torch.Tensor, settings: DipSettings = DipSettings()) -> Iterator[torch.Tensor]:
    """The network's image at each Adam step on ||net(z + jitter) - y||^2, for y (1, C, H, W) in [0, 1]."""
    fit = DipFit(observed, settings)
    for _ in range(settings.iterations):
        yield fit.step()


def check_dip_input(observed: torch.Tensor, settings: DipSettings) -> None:
    """ValueError (one line) unless y is one (1, 1 or 3, H, W) image large enough for the network's levels."""
    if observed.ndim != 4 or observed.shape[0] != 1 or observed.shape[1] not in (1, 3):
        raise ValueError(f"Deep Image Prior fits one image (1, 1 or 3, H, W), got {tuple(observed.shape)}")
    minimum = 2 ** settings.levels
    if min(observed.shape[-2:]) < minimum:
        raise ValueError(f"Deep Image Prior with {settings.levels} levels needs at least {minimum} x {minimum} "
                         f"pixels, got {observed.shape[-1]}x{observed.shape[-2]}")
