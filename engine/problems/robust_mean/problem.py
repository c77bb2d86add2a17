"""Robust mean (the Wibergian paper's RanSaC example, Sec. 3, Fig. 2): the mean of 10 inliers N(mu, 4^2) among
100 outliers U[-40, 40], as the minimum of a sum of RBFs centred on the samples.

x: the estimate t (B, 1). The observation: the samples (B, N), in a random order. Each item holds its own draws (the
inliers' offsets from the mean, the outliers), made from the config's draw seed, so that forward(mu) is the
observation the process makes for the true mean mu: the inliers move with mu, the outliers stay.

Energy: E(t) = sum_i 1 - exp(-(x_i - t)^2 / sigma^2), the paper's -sum exp(...) shifted by N so that it is a sum
of squares of the residuals r_i = sign(d_i) sqrt(1 - exp(-d_i^2 / sigma^2)), d_i = x_i - t (smooth: d_i / sigma
near 0); the minimiser is the paper's. sigma is the energy's one weight, learned in log space.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from ..spec import ArraySpec, bounded, check_config

MAX_SAMPLES = 1_000_000
OBSERVATION = ArraySpec(("N",), "samples: inliers and outliers", max_size=MAX_SAMPLES, max_items=100_000)
UNTRAINED_SIGMA = 60.0
"""The RBF width before learning: broad, so that the energy starts smooth with one wide minimum ("sensible
initialisations ... an initial broad range", the paper's Sec. 5)."""


@dataclass(frozen=True)
class RobustMeanConfig:
    """The data and the energy; defaults are the paper's (10 inliers N(mu, 4^2), 100 outliers U[-40, 40])."""

    inliers: int = bounded(10, 1, 10_000)
    """Inlier samples per problem, N(mu, inlier_std^2)."""
    outliers: int = bounded(100, 0, 100_000)
    """Outlier samples per problem, uniform over [-range, range]."""
    inlier_std: float = bounded(4.0, 0.0, 1e4, low_open=True)
    """Standard deviation of the inliers around the true mean."""
    range: float = bounded(40.0, 0.0, 1e6, low_open=True)
    """The true mean and the outliers are uniform over [-range, range]."""
    energy: str = "trained"
    """The RBF width sigma: 'untrained' (--untrained-sigma), 'trained' (the shipped
    assets/wibergian/robust-mean.safetensors) or a file made by `feedbacklab train robust-mean --out FILE`."""
    untrained_sigma: float = bounded(UNTRAINED_SIGMA, 1e-3, 1e4)
    """The untrained RBF width (energy 'untrained')."""
    draw_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of each problem's inlier offsets, outliers and sample order (the truth has --seed)."""

    def __post_init__(self) -> None:
        check_config(self)

    @property
    def samples(self) -> int:
        return self.inliers + self.outliers


def rbf_energy(t: torch.Tensor, samples: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """(B,) sum_i 1 - exp(-(x_i - t)^2 / sigma^2) of t (B, 1) and samples (B, N), differentiable in all three;
    broadcasting over the last axis: t (B, K, 1) and samples (B, 1, N) give K energies per item (B, K)."""
    return -torch.expm1(-((samples - t) / log_sigma.exp()).square()).sum(-1)


def rbf_residuals(t: torch.Tensor, samples: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """(B, N) sign(d) sqrt(1 - exp(-d^2 / sigma^2)) = (d / sigma) sqrt((1 - exp(-u)) / u), u = (d / sigma)^2, d =
    x_i - t: smooth through d = 0 (the square root's factor tends to 1)."""
    scaled = (samples - t) / log_sigma.exp()
    u = scaled.square()
    small = u < 1e-6
    factor = torch.where(small, 1 - u / 2, -torch.expm1(-u) / torch.where(small, torch.ones_like(u), u))
    return scaled * factor.sqrt()


@dataclass(frozen=True)
class RobustMeanProblem:
    """A batch of robust-mean problems: per item its inlier offsets (B, inliers), outliers (B, outliers) and the
    order the samples are observed in (B, N): shuffled, so that nothing but their values tells inliers apart."""

    offsets: torch.Tensor
    outliers: torch.Tensor
    order: torch.Tensor
    log_sigma: torch.Tensor
    """() the energy's weight, log of the RBF width."""
    config: RobustMeanConfig = RobustMeanConfig()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    parameter_names = ("t",)
    observation_spec = OBSERVATION
    tangent_dim = 1

    @classmethod
    def draw(cls, config: RobustMeanConfig, batch: int, log_sigma: torch.Tensor,
             device: torch.device | str = "cpu") -> "RobustMeanProblem":
        generator = torch.Generator().manual_seed(config.draw_seed)
        offsets = config.inlier_std * torch.randn(batch, config.inliers, generator=generator)
        outliers = config.range * (2 * torch.rand(batch, config.outliers, generator=generator) - 1)
        order = torch.rand(batch, config.samples, generator=generator).argsort(1)
        device = torch.device(device)
        return cls(offsets.to(device), outliers.to(device), order.to(device), log_sigma.to(device), config, device)

    @classmethod
    def of_samples(cls, samples: torch.Tensor, log_sigma: torch.Tensor) -> "RobustMeanProblem":
        """Problems of these samples (B, N) as they are (a loaded observation): forward leaves every sample
        where it is, whatever x."""
        batch, count = samples.shape
        return cls(samples.new_zeros(batch, 0), samples, torch.arange(count, device=samples.device).expand(batch, -1),
                   log_sigma.to(samples.device), device=samples.device)

    @property
    def batch_size(self) -> int:
        return self.offsets.shape[0]

    @property
    def sigma(self) -> float:
        return float(self.log_sigma.exp())

    def subset(self, index: torch.Tensor) -> "RobustMeanProblem":
        return replace(self, offsets=self.offsets[index], outliers=self.outliers[index], order=self.order[index])

    def with_log_sigma(self, log_sigma: torch.Tensor) -> "RobustMeanProblem":
        """The same problems under another energy weight."""
        return replace(self, log_sigma=log_sigma)

    def _check_x(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != 1:
            raise ValueError(f"robust-mean estimates must have shape (B, 1), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N) the samples the process draws for the mean x: its inliers around x and the outliers, shuffled."""
        self._check_x(x)
        return torch.cat([x + self.offsets.to(x), self.outliers.to(x)], dim=1).gather(1, self.order.to(x.device))

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the RBF energy of x given the observed samples (the prediction plays no part)."""
        return rbf_energy(x, observation, self.log_sigma.to(x))

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        return rbf_residuals(x, observation, self.log_sigma.to(x))

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item: the energy's gradient norm at x (how far from a minimum) and, with the truth, the squared
        error to the true mean and a flag for estimates more than 3 inlier deviations away."""
        with torch.enable_grad():
            t = x.detach().requires_grad_(True)
            (gradient,) = torch.autograd.grad(rbf_energy(t, observation, self.log_sigma.to(x)).sum(), t)
        result = {"gradient": gradient.abs()[:, 0]}
        if ground_truth is not None:
            error = (x - ground_truth)[:, 0]
            result["squared_error"] = error.square()
            result["missed"] = (error.abs() > 3 * self.config.inlier_std).to(x.dtype)
        return result

    def initial_estimate(self) -> torch.Tensor:
        """The centre of the range, 0: the only start that uses nothing of the observation."""
        return torch.zeros(self.batch_size, 1, device=self.device)

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 1) true means uniform over [-range, range]."""
        return (self.config.range * (2 * torch.rand(self.batch_size, 1, generator=generator) - 1)).to(self.device)

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx
