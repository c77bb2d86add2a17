"""The learned fitter's networks (learning-to-fit, Sec. 3.1 and Alg. 1), for any problem with residuals.

An initialiser (MLP, two hidden layers of `initialiser_hidden` with batch norm and ReLU) maps the observation to
theta_0; then each of `iterations` updates reads the observation, theta_t, the data term's residuals r_t and
gradient g_t = dE_data/dtheta, and a core network predicts the update Delta_t and per-parameter step sizes:

    Eq. 2:  Delta_t, alpha_t, beta_t, h_{t+1} = F_t(observation, theta_t, r_t, g_t, h_t)
    Eq. 1:  theta_{t+1} = theta_t + alpha_t * Delta_t - beta_t * g_t / rms(g_t)

(our reading of the paper's prose, whose equations our copy lacks: LM's blend of a Gauss-Newton step and a
gradient step, the Gauss-Newton step replaced by the network's; alpha in (0, 2), beta in (0, MAX_BETA)). The
gradient enters divided by its root mean square, so beta is a step length in theta's units whatever the energy's
scale (the network reads log rms(g), so a learned beta can still follow the gradient's size). theta holds 6D
rotations (fitter.Representation). Ablations (config): `cell` gru (stacked layer-normalised GRUs, the memory h),
resnet (residual feed-forward blocks, no memory) or mlp (LGD's Linear-BN-PReLU-Dropout blocks); `layers`;
`per_step` weights or one core shared by all iterations; `update` eq1 or network (theta + network_scale *
Delta: LGD's rule with network_scale 0.1); `step_size` learned or constant (alpha 1, beta constant_beta).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields
from typing import Callable

import torch
from torch import nn

from ..problems.spec import bounded, check_config

CELLS = ("gru", "resnet", "mlp")
UPDATES = ("eq1", "network")
STEP_SIZES = ("learned", "constant")
MAX_BETA = 0.2
INITIAL_BETA = 0.02


@dataclass(frozen=True)
class FitterSettings:
    """The fitter's design: what its training run chooses (the ablations) and its checkpoint records."""

    iterations: int = bounded(5, 0, 20)
    """Updates after the initialiser (the paper: 5)."""
    cell: str = "gru"
    """gru (stacked layer-normalised GRUs), resnet (residual feed-forward, no memory) or mlp (LGD's blocks)."""
    layers: int = bounded(2, 1, 8)
    """GRUs stacked, residual blocks or MLP blocks."""
    hidden: int = bounded(256, 8, 4096)
    """Width of the update network (the paper: 1024; 256 trains within this CPU's budget and ships under 20 MB)."""
    per_step: bool = True
    """One update network per iteration (false: one shared by all)."""
    update: str = "eq1"
    """eq1 (theta + alpha Delta - beta g) or network (theta + network_scale Delta, LGD's rule)."""
    step_size: str = "learned"
    """learned alpha and beta per parameter, or constant (alpha 1, beta constant_beta)."""
    constant_beta: float = bounded(0.01, 0.0, MAX_BETA)
    network_scale: float = bounded(1.0, 0.0, 10.0, low_open=True)
    """Delta's factor in the pure network update (LGD: 0.1)."""
    dropout: float = bounded(0.0, 0.0, 0.9)
    """Dropout in the mlp cell's blocks (LGD's)."""
    initialiser_hidden: int = bounded(256, 8, 4096)
    """Width of the initialiser's two hidden layers."""

    def __post_init__(self) -> None:
        for name, value, choices in (("cell", self.cell, CELLS), ("update", self.update, UPDATES),
                                     ("step_size", self.step_size, STEP_SIZES)):
            if value not in choices:
                raise ValueError(f"fitter {name} {value!r}: choose one of {', '.join(choices)}")

    def settings(self) -> dict:
        """The design's fields alone."""
        return {f.name: getattr(self, f.name) for f in fields(FitterSettings)}


@dataclass(frozen=True)
class FitterConfig(FitterSettings):
    """Shape of a learned fitter; stored in checkpoints so they rebuild exactly."""

    observation: int = bounded(1, 1, 1_000_000)
    """Numbers in one observation item."""
    parameters: int = bounded(1, 1, 100_000)
    """Numbers in theta (6D per rotation)."""
    residuals: int = bounded(1, 1, 1_000_000)
    """Residuals of the data term."""
    feedback: bool = True
    """Read by the checkpoint loader: a fitter always reads its feedback."""

    def __post_init__(self) -> None:
        check_config(self, label=str)
        super().__post_init__()

    @property
    def step_inputs(self) -> int:
        """observation, theta, r / rms(r), log rms(r), g / rms(g), log rms(g)."""
        return self.observation + 2 * self.parameters + self.residuals + 2

    def to_dict(self) -> dict:
        return asdict(self)


class LayerNormGRUCell(nn.Module):
    """A GRU cell whose input and hidden projections are layer-normalised (Ba et al.), steadier when unrolled."""

    def __init__(self, inputs: int, hidden: int):
        super().__init__()
        self.input_map = nn.Linear(inputs, 3 * hidden)
        self.hidden_map = nn.Linear(hidden, 3 * hidden, bias=False)
        self.input_norm = nn.LayerNorm(3 * hidden)
        self.hidden_norm = nn.LayerNorm(3 * hidden)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        ir, iz, i_new = self.input_norm(self.input_map(x)).chunk(3, -1)
        hr, hz, h_new = self.hidden_norm(self.hidden_map(h)).chunk(3, -1)
        reset, keep = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        return (1 - keep) * torch.tanh(i_new + reset * h_new) + keep * h


class GRUCore(nn.Module):
    """Stacked layer-normalised GRUs; the hidden state (B, layers * hidden) is the fitter's memory."""

    def __init__(self, inputs: int, hidden: int, layers: int):
        super().__init__()
        self.hidden = hidden
        self.cells = nn.ModuleList(LayerNormGRUCell(inputs if i == 0 else hidden, hidden) for i in range(layers))

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states = list(state.split(self.hidden, dim=1))
        for i, cell in enumerate(self.cells):
            x = states[i] = cell(x, states[i])
        return x, torch.cat(states, dim=1)


class ResNetCore(nn.Module):
    """Residual feed-forward blocks (LayerNorm, Linear, ReLU, Linear), no memory."""

    def __init__(self, inputs: int, hidden: int, layers: int):
        super().__init__()
        self.embed = nn.Linear(inputs, hidden)
        self.blocks = nn.ModuleList(nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.ReLU(),
                                                  nn.Linear(hidden, hidden)) for _ in range(layers))

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.embed(x)
        for block in self.blocks:
            x = x + block(x)
        return torch.relu(x), state


class MLPCore(nn.Module):
    """LGD's blocks: Linear, BatchNorm, PReLU, Dropout; no memory."""

    def __init__(self, inputs: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        widths = [inputs] + [hidden] * layers
        self.blocks = nn.Sequential(*[nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.PReLU(), nn.Dropout(dropout))
                                      for a, b in zip(widths, widths[1:])])

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.blocks(x), state


def _core(config: FitterConfig) -> nn.Module:
    if config.cell == "gru":
        return GRUCore(config.step_inputs, config.hidden, config.layers)
    if config.cell == "resnet":
        return ResNetCore(config.step_inputs, config.hidden, config.layers)
    return MLPCore(config.step_inputs, config.hidden, config.layers, config.dropout)


def _head(hidden: int, parameters: int) -> nn.Linear:
    """Delta, alpha's and beta's logits per parameter; starts at Delta 0, alpha 1, beta INITIAL_BETA."""
    head = nn.Linear(hidden, 3 * parameters)
    nn.init.zeros_(head.weight)
    beta_logit = torch.logit(torch.tensor(INITIAL_BETA / MAX_BETA))
    with torch.no_grad():
        head.bias.copy_(torch.cat([torch.zeros(2 * parameters), beta_logit.expand(parameters)]))
    return head


class LearnedFitter(nn.Module):
    """The initialiser and the update cores of one learned fitter (module docstring). `problem` is set on the
    per-problem subclass (fitter_class), which checkpoints name."""

    problem = "generic"
    architecture = "learned-fitter"
    config_class = FitterConfig

    def __init__(self, config: FitterConfig):
        super().__init__()
        self.config = config
        widths = [config.observation, config.initialiser_hidden, config.initialiser_hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
        self.initialiser = nn.Sequential(*layers, nn.Linear(config.initialiser_hidden, config.parameters))
        count = config.iterations if config.per_step else min(config.iterations, 1)
        self.cores = nn.ModuleList(_core(config) for _ in range(count))
        self.heads = nn.ModuleList(_head(config.hidden, config.parameters) for _ in range(count))
        for name, size in (("observation", config.observation), ("theta", config.parameters)):
            self.register_buffer(f"{name}_mean", torch.zeros(size))
            self.register_buffer(f"{name}_std", torch.ones(size))

    def set_statistics(self, observation: torch.Tensor, theta: torch.Tensor) -> None:
        """Input standardisation from training data (B, ...), and the initialiser's output starting at the mean
        theta: called once before training."""
        with torch.no_grad():
            for name, values in (("observation", observation.flatten(1)), ("theta", theta)):
                getattr(self, f"{name}_mean").copy_(values.mean(0))
                getattr(self, f"{name}_std").copy_(values.std(0).clamp(min=1e-3))
            last = self.initialiser[-1]
            last.weight.mul_(0.1)
            last.bias.copy_(theta.mean(0))

    def features(self, observation: torch.Tensor) -> torch.Tensor:
        """(B, observation) the standardised observation."""
        return (observation.flatten(1) - self.observation_mean) / self.observation_std

    def initial(self, features: torch.Tensor) -> torch.Tensor:
        """theta_0 (B, parameters) of standardised observations."""
        return self.initialiser(features)

    def initial_state(self, batch: int, device: torch.device) -> torch.Tensor:
        size = self.config.layers * self.config.hidden if self.config.cell == "gru" else 1
        return torch.zeros(batch, size, device=device)

    def update(self, iteration: int, features: torch.Tensor, theta: torch.Tensor, residuals: torch.Tensor,
               gradient: torch.Tensor, state: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """theta_{t+1}, the next state and the step's (B,) info (mean alpha and beta) of update `iteration`."""
        c = self.config
        index = iteration if c.per_step else 0
        r_rms = residuals.square().mean(1, keepdim=True).sqrt().clamp(min=1e-8)
        g_rms = gradient.square().mean(1, keepdim=True).sqrt().clamp(min=1e-12)
        inputs = torch.cat([features, (theta - self.theta_mean) / self.theta_std, residuals / r_rms, r_rms.log(),
                            gradient / g_rms, g_rms.log()], dim=1)
        out, state = self.cores[index](inputs, state)
        delta, alpha_logit, beta_logit = self.heads[index](out).chunk(3, dim=1)
        if c.update == "network":
            return theta + c.network_scale * delta, state, {}
        if c.step_size == "learned":
            alpha, beta = 2 * torch.sigmoid(alpha_logit), MAX_BETA * torch.sigmoid(beta_logit)
        else:
            alpha, beta = torch.ones_like(delta), torch.full_like(delta, c.constant_beta)
        info = {"alpha": alpha.mean(1), "beta": beta.mean(1)}
        return theta + alpha * delta - beta * gradient / g_rms, state, info

    def forward(self, observation: torch.Tensor, feedback: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                iterations: int | None = None) -> list[torch.Tensor]:
        """theta_0 .. theta_T of a batch of observations, with the graph for training; feedback(theta) gives the
        data term's residuals and gradient at theta (fitter.feedback). T: the config's iterations unless given."""
        features = self.features(observation)
        thetas = [self.initial(features)]
        state = self.initial_state(len(observation), observation.device)
        for t in range(self.config.iterations if iterations is None else iterations):
            residuals, gradient = feedback(thetas[-1])
            theta, state, _ = self.update(t, features, thetas[-1], residuals, gradient, state)
            thetas.append(theta)
        return thetas


@functools.lru_cache(maxsize=None)
def fitter_class(problem: str) -> type[LearnedFitter]:
    """The LearnedFitter subclass whose checkpoints name `problem`."""
    return type(f"LearnedFitter[{problem}]", (LearnedFitter,), {"problem": problem})
