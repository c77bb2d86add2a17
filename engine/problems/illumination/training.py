"""The illumination problem's learned solvers as tasks of the stage-wise trainer (engine.learn.train).

Training problems: procedural meshes (or the user's) at uniformly random rotations, lights uniform on the half
unit sphere, observations rendered by the forward process (pyrender, shadows) and stored at the network's input
size. Stage t trains g^t on the estimates the earlier stages made, re-rendered with pyrender: the loss is the
MSE of the predicted update against x_gt - x_t (in units of the targets' spread) plus `depth_weight` times the
MSE of the auxiliary depth against the object's true depth (the paper's two MSE objectives).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Callable, ClassVar

import torch

from ...learn.checkpoint import MAX_STEPS
from ...learn.train import StageData, TrainConfig
from ...meshes import Mesh
from ..spec import bounded
from .network import LightNetwork, NetworkConfig, network_images
from .problem import IlluminationConfig, IlluminationProblem, hemisphere_lights, random_rotations

RENDER_CHUNK = 64
LEARNED_KINDS = {"feedback": (True, False), "feedback-shared": (True, True), "regression": (False, False)}
"""Each learned solver's (feedback, shared)."""


@dataclass(frozen=True)
class IlluminationTrainConfig(TrainConfig):
    """Settings of an illumination training run (the `feedbacklab train illumination` flags)."""

    steps: int = bounded(7, 1, MAX_STEPS)
    """Feedback steps (stages): the paper unrolls 7; the regression baseline has one."""
    samples: int = bounded(3000, 2, 10_000_000)
    """Training problems per stage."""
    validation_samples: int = bounded(200, 1, 100_000)
    epochs: int = bounded(4, 1, 1000)
    batch_size: int = bounded(32, 2, 4096)
    learning_rate: float = bounded(1e-3, 0.0, 1.0, low_open=True)
    light: str = "directional"
    """The light's kind trained on: directional or point."""
    network_size: int = bounded(64, 16, 512)
    """The network's input size in pixels: observations and renderings are area-downsampled to it."""
    width: int = bounded(16, 1, 128)
    """Channels of the network's first level."""
    depth_weight: float = bounded(1.0, 0.0, 100.0)
    """Weight of the auxiliary depth loss."""

    def __post_init__(self) -> None:
        super().__post_init__()
        IlluminationConfig(light=self.light)  # its check of the light's kind
        self.network()

    @property
    def solver_name(self) -> str:
        kind = next(name for name, flags in LEARNED_KINDS.items() if flags == (self.feedback, self.shared))
        return f"{kind}-{self.light}"

    def network(self) -> NetworkConfig:
        return NetworkConfig(image_size=self.network_size, feedback=self.feedback, width=self.width)


IlluminationTrainConfig.FLAGS = {f.name: "--" + f.name.replace("_", "-") for f in fields(IlluminationTrainConfig)}


@dataclass
class LightDataset:
    """N light problems over a set of meshes, sorted by mesh (consecutive renders reuse the uploaded mesh)."""

    meshes: list[Mesh]
    mesh_index: torch.Tensor
    """(N,) which mesh each sample shows."""
    rotations: torch.Tensor
    """(N, 3, 3) object rotations."""
    ground_truth: torch.Tensor
    """(N, 3) light positions."""
    config: IlluminationConfig
    network_size: int
    observations: torch.Tensor = torch.empty(0)
    """(N, S, S, 3) uint8 at the network's input size."""
    depth: torch.Tensor = torch.empty(0)
    """(N, S/2, S/2) float16: the object's depth, (distance - depth) / object_radius, 0 off the object."""

    def __len__(self) -> int:
        return self.mesh_index.shape[0]

    def problem(self, index: torch.Tensor) -> IlluminationProblem:
        return IlluminationProblem.for_meshes([self.meshes[int(i)] for i in self.mesh_index[index]],
                                              self.rotations[index], self.config)

    def render(self, x: torch.Tensor, progress: Callable[[int], None] | None = None,
               with_depth: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """pyrender images of estimates x (N, 3) at the network's input size (uint8), and the depth target."""
        size = self.network_size
        images = torch.empty(len(self), size, size, 3, dtype=torch.uint8)
        depth = torch.empty(len(self), size // 2, size // 2, dtype=torch.float16) if with_depth else None
        for start in range(0, len(self), RENDER_CHUNK):
            index = torch.arange(start, min(start + RENDER_CHUNK, len(self)))
            colour, view_depth = self.problem(index).render(x[index])
            images[index] = (network_images(colour, size).permute(0, 2, 3, 1) * 255).round().to(torch.uint8)
            if depth is not None:
                depth[index] = depth_target(view_depth, self.config, size // 2).half()
            if progress is not None:
                progress(index.numel())
        return images, depth


def depth_target(view_depth: torch.Tensor, config: IlluminationConfig, size: int) -> torch.Tensor:
    """(B, size, size): (distance - depth) / object_radius on the object (in [-1, 1]), 0 off it; area-averaged."""
    relative = torch.where(view_depth > 0, (config.distance - view_depth) / config.object_radius,
                           torch.zeros_like(view_depth))
    return torch.nn.functional.interpolate(relative[:, None], size=(size, size), mode="area")[:, 0]


def make_light_dataset(meshes: list[Mesh], n: int, seed: int, config: IlluminationConfig, network_size: int,
                       shard: tuple[int, int] = (0, 1),
                       progress: Callable[[int], None] | None = None) -> LightDataset:
    """n samples: meshes drawn uniformly, rotations uniform, lights uniform on the camera's half unit sphere;
    with shard (rank, world) only every world-th sample from rank on is kept and rendered."""
    if n < 1 or not meshes:
        raise ValueError(f"a dataset needs meshes and n >= 1, got {len(meshes)} meshes and n={n}")
    generator = torch.Generator().manual_seed(seed)
    mesh_index = torch.randint(len(meshes), (n,), generator=generator)
    rotations = random_rotations(n, generator)
    lights = hemisphere_lights(n, generator)
    rank, world = shard
    keep = torch.arange(rank, n, world)
    order = keep[torch.argsort(mesh_index[keep], stable=True)]
    dataset = LightDataset(meshes, mesh_index[order], rotations[order], lights[order], config, network_size)
    dataset.observations, dataset.depth = dataset.render(dataset.ground_truth, progress, with_depth=True)
    return dataset


@dataclass
class IlluminationTask:
    """Training and validation meshes, and what the checkpoint records about them (`training_set`)."""

    config: IlluminationTrainConfig
    train_meshes: list[Mesh]
    validation_meshes: list[Mesh]
    training_set: dict[str, Any]
    network_class: ClassVar[type] = LightNetwork

    @property
    def solver_name(self) -> str:
        return self.config.solver_name

    @property
    def problem_config(self) -> IlluminationConfig:
        return replace(IlluminationConfig(), light=self.config.light)

    def new_network(self) -> LightNetwork:
        return LightNetwork(self.config.network())

    def training_data(self, samples: int, shard: tuple[int, int], progress: Callable[[int], None]) -> LightDataset:
        return make_light_dataset(self.train_meshes, samples, self.config.seed, self.problem_config,
                                  self.config.network_size, shard, progress)

    def validation_data(self) -> LightDataset:
        return make_light_dataset(self.validation_meshes, self.config.validation_samples, self.config.seed + 1,
                                  self.problem_config, self.config.network_size)

    def initial(self, data: LightDataset) -> torch.Tensor:
        return data.problem(torch.arange(1)).initial_estimate().expand(len(data), 3).clone()

    def stage_data(self, data: LightDataset, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        stage = {"observations": data.observations, "depth": data.depth, "x": x.clone(),
                 "target": data.ground_truth - x}
        if self.config.feedback:
            stage["renderings"] = data.render(x, progress)[0]
        return stage

    def prepare(self, network: LightNetwork, data: StageData) -> None:
        if not (network.update_scale != 1).any():  # a shared network keeps the units of its first stage
            network.update_scale.copy_(data["target"].std(dim=0).clamp(min=1e-4))

    def loss(self, network: Callable[..., Any], batch: StageData) -> torch.Tensor:
        update, depth = network(batch["observations"], batch.get("renderings"), batch["x"])
        scale = getattr(network, "module", network).update_scale  # `network` may be the DDP wrapper
        light_loss = torch.nn.functional.mse_loss(update / scale, batch["target"] / scale)
        return light_loss + self.config.depth_weight * torch.nn.functional.mse_loss(depth, batch["depth"].float())

    def advance(self, network: LightNetwork, batch: StageData) -> torch.Tensor:
        update, _ = network(batch["observations"], batch.get("renderings"), batch["x"])
        return batch["x"] + update

    def validation_metrics(self, data: LightDataset, x: torch.Tensor) -> dict[str, float]:
        problem = data.problem(torch.arange(len(data)))
        empty = torch.zeros(len(data), 1, 1, 3)
        result = problem.metrics(x, empty, empty, data.ground_truth)
        return {"mse_mean": float(result["mse"].mean()), "mse_median": float(result["mse"].median()),
                "angle_error_mean": float(result["angle_error_deg"].mean()),
                "outlier_percent": float(100 * result["outlier"].mean())}

    def describe(self, metrics: dict[str, float]) -> str:
        return (f"MSE {metrics['mse_mean']:.4f} mean, {metrics['mse_median']:.4f} median; angle "
                f"{metrics['angle_error_mean']:.2f} deg; outliers {metrics['outlier_percent']:.1f}%")

    def meta(self) -> dict[str, Any]:
        return {"light": self.config.light, "image_size": self.problem_config.image_size,
                "training_set": self.training_set}
