"""Training a learned fitter with the shared stage-wise trainer: the whole unrolled fitter is the one stage's
network (fitter.fitter_loss over every iteration), so resuming, checkpoints and torch.distributed come from
engine.learn.train unchanged. A problem supplies `make_set(count, seed, split) -> (problem, observation, truth)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch

from ..problems.spec import ParameterGroup, bounded
from .fitter import Representation, feedback, fitter_loss
from .fitter_network import FitterConfig, FitterSettings, LearnedFitter
from .train import StageData, TrainConfig

MakeSet = Callable[[int, int, str], tuple[Any, torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class FitterTrainConfig(TrainConfig, FitterSettings):
    """A learned fitter's training run: the network's shape, the loss and the shared trainer's settings (one
    stage: the fitter is trained through its unrolled iterations)."""

    steps: int = bounded(1, 1, 1)
    """The trainer's stages: always 1 (the fitter's iterations are `iterations`)."""
    samples: int = bounded(40000, 2, 10_000_000)
    epochs: int = bounded(6, 1, 1000)
    learning_rate: float = bounded(1e-3, 0.0, 1.0, low_open=True)
    parameter_weight: float = bounded(1.0, 0.0, 1e3)
    """Weight of the L1 loss on theta (6D rotations, shape, camera)."""
    surface_weight: float = bounded(1.0, 0.0, 1e3)
    """Weight of the mean vertex distance (decimetres)."""
    edge_weight: float = bounded(1.0, 0.0, 1e3)
    """Weight of the mesh edge-vector loss (centimetres)."""
    validation_samples: int = bounded(500, 1, 100_000)

    FLAGS: ClassVar[dict[str, str]] = {name: "--" + name.replace("_", "-") for name in
                                       ("samples", "epochs", "seed", "iterations", "hidden", "layers")}

    def __post_init__(self) -> None:
        TrainConfig.__post_init__(self)
        FitterSettings.__post_init__(self)


class FitterTask:
    """The TrainingTask of a learned fitter (engine.learn.train)."""

    def __init__(self, config: FitterTrainConfig, solver_name: str, network_class: type[LearnedFitter],
                 groups: tuple[ParameterGroup, ...], make_set: MakeSet, meta: dict[str, Any]):
        self.config = config
        self.solver_name = solver_name
        self.network_class = network_class
        self.representation = Representation(groups)
        self.make_set = make_set
        self._meta = meta
        self._shapes: dict[str, int] | None = None
        self._problem: Any = None
        self.weights = {"parameters": config.parameter_weight, "surface": config.surface_weight,
                        "edges": config.edge_weight}

    def _set(self, count: int, seed: int, split: str) -> dict[str, Any]:
        problem, observation, truth = self.make_set(count, seed, split)
        self._problem = self._problem or problem
        if self._shapes is None:
            residuals = feedback(problem.subset(torch.arange(1)), self.representation,
                                 self.representation.to_theta(truth[:1]), observation[:1])[0]
            self._shapes = {"observation": observation[0].numel(), "residuals": residuals.shape[1]}
        return {"problem": problem, "observation": observation.cpu(), "truth": truth.cpu()}

    def new_network(self) -> LearnedFitter:
        if self._shapes is None:
            raise RuntimeError("the training set must be made before the network")
        config = FitterConfig(parameters=self.representation.theta_dim, **self._shapes,
                              **self.config.settings())
        return self.network_class(config)

    def training_data(self, samples: int, shard: tuple[int, int], progress: Callable[[int], None]) -> Any:
        rank, world = shard
        count = len(range(rank, samples, world))
        made = self._set(count, self.config.seed * 1000 + rank, "train")
        progress(count)
        return made

    def validation_data(self) -> Any:
        return self._set(self.config.validation_samples, 10**6 + self.config.seed, "val")

    def initial(self, data: Any) -> torch.Tensor:
        return torch.zeros(len(data["truth"]), self.representation.x_dim)

    def stage_data(self, data: Any, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        return {"x": x, "observation": data["observation"], "truth": data["truth"], "item": torch.arange(len(x))}

    def prepare(self, network: LearnedFitter, data: StageData) -> None:
        network.set_statistics(data["observation"].to(network.theta_mean.device),
                               self.representation.to_theta(data["truth"]).to(network.theta_mean.device))

    def _problem_for(self, batch: StageData) -> Any:
        """The training problem's items of a batch: the loss's surface may depend on them (body-hmd's shapes).
        Validation batches (advance only) index it modulo its size: the data residuals read x and the observation
        alone (the items' own draws and shapes are in the observation)."""
        return self._problem.subset(batch["item"] % self._problem.batch_size)

    def loss(self, network: Callable[..., list[torch.Tensor]], batch: StageData) -> torch.Tensor:
        return fitter_loss(network, self._problem_for(batch), self.representation, batch["observation"],
                           batch["truth"], self.weights)

    def advance(self, network: LearnedFitter, batch: StageData) -> torch.Tensor:
        observation = batch["observation"]
        problem = self._problem_for(batch)
        thetas = network(observation, lambda theta: feedback(problem, self.representation, theta, observation))
        return self.representation.to_x(thetas[-1])

    def validation_metrics(self, data: Any, x: torch.Tensor) -> dict[str, float]:
        problem = data["problem"]
        with torch.no_grad():
            x = x.to(problem.device)
            observation, truth = data["observation"].to(problem.device), data["truth"].to(problem.device)
            values = problem.metrics(x, problem.forward(x), observation, truth)
        return {key: float(value.float().mean()) for key, value in values.items()}

    def describe(self, metrics: dict[str, float]) -> str:
        return ", ".join(f"{key} {value:.2f}" for key, value in metrics.items())

    def meta(self) -> dict[str, Any]:
        return dict(self._meta)


FITTER_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "lf": ("learned fitter (full): two layer-normalised GRUs, Eq. 1 with learned alpha and beta, 5 updates", {}),
    "lf-shared": ("learned fitter with one update network shared by every iteration", {"per_step": False}),
    "lf-resnet": ("learned fitter with a residual feed-forward network instead of the GRUs (no memory)",
                  {"cell": "resnet"}),
    "lf-1gru": ("learned fitter with one GRU instead of two", {"layers": 1}),
    "lf-network": ("learned fitter with the pure network update theta + Delta (no gradient term)",
                   {"update": "network"}),
    "lf-constant": ("learned fitter with constant step sizes (alpha 1, beta constant_beta)",
                    {"step_size": "constant"}),
    "lgd": ("LGD (Song et al.): MLP blocks of 1024, theta += 0.1 net(observation, theta, gradient), 3 stages",
            {"cell": "mlp", "hidden": 1024, "layers": 2, "iterations": 3, "update": "network", "network_scale": 0.1,
             "dropout": 0.1}),
    "lgd-eq1": ("LGD's network with Eq. 1's update rule (the paper's 'LGD + Eq. 1')",
                {"cell": "mlp", "hidden": 1024, "layers": 2, "iterations": 3, "dropout": 0.1}),
}
"""The learned fitters and their ablations: description and the training settings that differ from lf's."""
