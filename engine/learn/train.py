"""Stage-wise training of the deep feedback solver (Alg. 1, Sec. 3.2-3.3 of the paper).

Stage t trains g^t to predict the update x_gt - x_t from (y, y_t = f(x_t), y - y_t, x_t), MSE loss, where the
estimates x_t come from the already trained stages and y_t is re-rendered with pyrender. With `shared`, one
network is trained through all stages (on the union of the stages' data, with the same number of gradient
steps per stage); with `feedback=False`, one stage without feedback: the deep regression baseline.

Deterministic per seed on one process. Resumable per stage: after each stage the networks so far are
written to DIR/partial.safetensors, and a run with the same settings picks up from there (bit for bit with
per-step networks; a shared network replays the finished stages with its latest weights, so its resumed run
is close to, not identical with, an uninterrupted one). Multi-process
through torch.distributed (torchrun): every rank renders and trains on its own shard, DDP averages the
gradients, rank 0 validates and writes the checkpoints.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..bounds import SEED
from ..meshes import Mesh
from ..outputs import directory_lock
from ..problems.pose6d.problem import MAX_IMAGE_SIZE, Pose6DConfig, identity_poses
from ..problems.spec import bounded, check_config
from ..rotations import normalize_quaternion
from .checkpoint import CheckpointError, current_commit, load_checkpoint, save_checkpoint
from .data import PoseDataset, make_pose_dataset
from .network import MAX_HIDDEN, MAX_STEPS, MAX_WIDTH, NetworkConfig, UpdateNetwork

PARTIAL = "partial.safetensors"
MIN_SAMPLES = 2
TRAIN_FLAGS = {"steps": "--steps", "samples": "--samples", "epochs": "--epochs", "seed": "--seed",
               "image_size": "--size"}
"""The `feedbacklab train` flags of TrainConfig's fields, for messages."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a training run (the CLI's `feedbacklab train` flags)."""

    steps: int = bounded(5, 1, MAX_STEPS)
    """Feedback steps (stages); 1 for the regression baseline."""
    shared: bool = False
    """One network for all steps instead of one per step."""
    feedback: bool = True
    """False: the deep regression baseline (input y only, one step)."""
    samples: int = bounded(10000, MIN_SAMPLES, 10_000_000)
    """Training problems per stage (at least two per process: the update targets are normalised by their spread)."""
    validation_samples: int = bounded(300, 1, 100_000)
    epochs: int = bounded(4, 1, 1000)
    """Passes over a stage's samples."""
    batch_size: int = bounded(64, 2, 4096)
    learning_rate: float = bounded(2e-3, 0.0, 1.0, low_open=True)
    seed: int = bounded(0, SEED.low, SEED.high)
    image_size: int = bounded(128, 32, MAX_IMAGE_SIZE)
    width: int = bounded(16, 1, MAX_WIDTH)
    hidden: int = bounded(128, 1, MAX_HIDDEN)

    def __post_init__(self) -> None:
        check_config(self, label=lambda name: TRAIN_FLAGS.get(name, name.replace("_", " ")))
        if not self.feedback and self.steps != 1:
            raise ValueError("the regression baseline has exactly one step")
        self.network()  # its own checks (an image size divisible by 32), before any work

    @property
    def solver_name(self) -> str:
        if not self.feedback:
            return "regression"
        return "feedback-shared" if self.shared else "feedback"

    def checkpoint_path(self, out_dir: str) -> str:
        """Where a run with these settings writes its final checkpoint."""
        return os.path.join(out_dir, f"pose6d-{self.solver_name}.safetensors")

    def network(self) -> NetworkConfig:
        return NetworkConfig(image_size=self.image_size, feedback=self.feedback, width=self.width, hidden=self.hidden)


@dataclass
class StageData:
    """What one stage trains on: observations, renderings of x_t, x_t and the targets."""

    observations: torch.Tensor
    renderings: torch.Tensor | None
    x: torch.Tensor
    target: torch.Tensor

    def __len__(self) -> int:
        return self.x.shape[0]

    @staticmethod
    def concatenate(parts: list["StageData"]) -> "StageData":
        renderings = None if parts[0].renderings is None else torch.cat([p.renderings for p in parts])
        return StageData(torch.cat([p.observations for p in parts]), renderings,
                         torch.cat([p.x for p in parts]), torch.cat([p.target for p in parts]))


def update_target(x: torch.Tensor, ground_truth: torch.Tensor) -> torch.Tensor:
    """x_gt - x_t, with the ground-truth quaternion's sign chosen nearest to x_t (q and -q are one rotation)."""
    sign = torch.where((x[:, :4] * ground_truth[:, :4]).sum(1, keepdim=True) < 0, -1.0, 1.0)
    return torch.cat([sign * ground_truth[:, :4], ground_truth[:, 4:]], dim=1) - x


def apply_update(x: torch.Tensor, update: torch.Tensor) -> torch.Tensor:
    """x_{t+1} = x_t + update, quaternion renormalised."""
    moved = x + update
    return torch.cat([normalize_quaternion(moved[:, :4]), moved[:, 4:]], dim=1)


def predict(network: UpdateNetwork, observations: torch.Tensor, renderings: torch.Tensor | None, x: torch.Tensor,
            batch_size: int = 256) -> torch.Tensor:
    """The network's updates for a whole set (kept on the CPU), in batches on the network's device."""
    device = next(network.parameters()).device
    updates = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            part = slice(start, start + batch_size)
            rendering = None if renderings is None else renderings[part].to(device).float()
            updates.append(network(observations[part].to(device).float(), rendering, x[part].to(device)).cpu())
    return torch.cat(updates)


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(
    config: TrainConfig, out_dir: str, train_meshes: list[Mesh], validation_meshes: list[Mesh],
    training_set: dict[str, Any], progress: Callable[[str, int], Callable[[int], None]] | None = None,
    log: Callable[[str], None] = print, device: torch.device | str = "cpu",
) -> str:
    """Trains all stages (resuming from out_dir when possible) on `device` and returns the final checkpoint's
    path. Data stays on the CPU, where pyrender makes it; batches move to the device.

    progress(description, total) returns a callback taking increments, for progress bars; rank 0 only. The
    directory is locked while rank 0 trains: a second run into it fails at once (engine.outputs.directory_lock)."""
    os.makedirs(out_dir, exist_ok=True)
    with directory_lock(out_dir) if _distributed()[0] == 0 else contextlib.nullcontext():
        return _train(config, out_dir, train_meshes, validation_meshes, training_set, progress, log, device)


def _train(config: TrainConfig, out_dir: str, train_meshes: list[Mesh], validation_meshes: list[Mesh],
           training_set: dict[str, Any], progress: Callable[[str, int], Callable[[int], None]] | None,
           log: Callable[[str], None], device: torch.device | str) -> str:
    rank, world = _distributed()
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    problem_config = replace(Pose6DConfig(), image_size=config.image_size)
    samples = config.samples - config.samples % world
    if samples < MIN_SAMPLES * world:
        raise ValueError(f"--samples {config.samples}: {world} processes need at least {MIN_SAMPLES * world} "
                         f"({MIN_SAMPLES} each) to normalise the update targets")
    bar = progress if (progress is not None and rank == 0) else (lambda description, total: (lambda n: None))

    data = make_pose_dataset(train_meshes, samples, config.seed, problem_config, shard=(rank, world),
                             progress=bar("rendering observations", len(range(rank, samples, world))))
    validation = make_pose_dataset(validation_meshes, config.validation_samples, config.seed + 1, problem_config)
    networks, completed = _resume(config, out_dir, training_set, device)
    x = identity_poses(len(data))
    x_validation = identity_poses(len(validation))
    history: list[StageData] = []
    metrics: list[dict[str, float]] = []
    for stage in range(config.steps):
        stage_data = _stage_data(config, data, x, bar(f"stage {stage + 1}/{config.steps}: rendering", len(data)))
        if config.shared:
            history.append(stage_data)
        if stage < completed:
            network = networks[0 if config.shared else stage]
        else:
            network = networks[0] if (config.shared and networks) else UpdateNetwork(config.network()).to(device)
            train_set = StageData.concatenate(history) if config.shared else stage_data
            total = config.epochs * math.ceil(len(stage_data) / config.batch_size)
            _fit(network, train_set, config, stage, len(stage_data),
                 bar(f"stage {stage + 1}/{config.steps}: training", total))
            if not config.shared or not networks:
                networks.append(network)
        network.eval()
        x = apply_update(x, predict(network, stage_data.observations, stage_data.renderings, x))
        x_validation = apply_update(x_validation, _validation_update(config, network, validation, x_validation))
        metrics.append(_validation_metrics(validation, x_validation))
        if rank == 0:
            log(f"stage {stage + 1}/{config.steps}: validation rotation error {metrics[-1]['rotation_error_mean']:.2f} "
                f"deg mean, {metrics[-1]['rotation_error_median']:.2f} median; translation "
                f"{metrics[-1]['translation_error_mean']:.3f}; outliers {metrics[-1]['outlier_percent']:.1f}%")
            if stage >= completed:
                save_checkpoint(os.path.join(out_dir, PARTIAL), networks,
                                _meta(config, training_set, metrics, stage + 1, time.perf_counter() - started, world))
        if world > 1:
            dist.barrier()
    final = config.checkpoint_path(out_dir)
    if rank == 0:
        save_checkpoint(final, networks, _meta(config, training_set, metrics, config.steps,
                                               time.perf_counter() - started, world))
        os.remove(os.path.join(out_dir, PARTIAL))
    return final


def _stage_data(config: TrainConfig, data: PoseDataset, x: torch.Tensor, progress) -> StageData:
    renderings = data.render(x, progress) if config.feedback else None
    return StageData(data.observations, renderings, x.clone(), update_target(x, data.ground_truth))


def _validation_update(config: TrainConfig, network: UpdateNetwork, validation: PoseDataset, x: torch.Tensor):
    renderings = validation.render(x) if config.feedback else None
    return predict(network, validation.observations, renderings, x)


def _validation_metrics(validation: PoseDataset, x: torch.Tensor) -> dict[str, float]:
    problem = validation.problem(torch.arange(len(validation)))
    empty = torch.zeros(len(validation), 1, 1)
    result = problem.metrics(x, empty, empty, validation.ground_truth)
    return {
        "rotation_error_mean": float(result["rotation_error_deg"].mean()),
        "rotation_error_median": float(result["rotation_error_deg"].median()),
        "translation_error_mean": float(result["translation_error"].mean()),
        "translation_error_median": float(result["translation_error"].median()),
        "outlier_percent": float(100 * result["outlier"].mean()),
    }


def _fit(network: UpdateNetwork, data: StageData, config: TrainConfig, stage: int, batches_of: int, progress) -> None:
    """Adam on the MSE between predicted and target updates; `batches_of` samples' worth of steps per epoch."""
    rank, world = _distributed()
    network.train()
    device = next(network.parameters()).device
    if not (network.update_scale != 1).any():  # a shared network keeps the units of its first stage
        network.update_scale.copy_(data.target.std(dim=0).clamp(min=1e-4))
    model = DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None) \
        if world > 1 else network
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    steps_per_epoch = math.ceil(batches_of / config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed * 1000 + stage)
    for _ in range(config.epochs):
        order = torch.randperm(len(data), generator=generator)[: steps_per_epoch * config.batch_size]
        if len(order) % config.batch_size == 1:  # batch norm needs two samples: no batch of one at the end
            order = order[:-1]
        for batch in order.split(config.batch_size):
            renderings = None if data.renderings is None else data.renderings[batch].to(device).float()
            prediction = model(data.observations[batch].to(device).float(), renderings, data.x[batch].to(device))
            loss = torch.nn.functional.mse_loss(prediction / network.update_scale,
                                                data.target[batch].to(device) / network.update_scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            progress(1)
    if not all(bool(torch.isfinite(value).all()) for value in network.state_dict().values()):
        raise ValueError(f"training stage {stage + 1} diverged (NaN or infinite weights); nothing was written for it")


def _meta(config: TrainConfig, training_set: dict[str, Any], metrics: list[dict[str, float]], completed: int,
          seconds: float, world: int) -> dict[str, Any]:
    return {"problem": "pose6d", "solver": config.solver_name, "image_size": config.image_size,
            "steps": config.steps, "shared": config.shared, "completed_stages": completed,
            "train_config": asdict(config), "training_set": training_set, "commit": current_commit(),
            "validation": metrics, "train_seconds": round(seconds, 1), "processes": world}


def _resume(config: TrainConfig, out_dir: str, training_set: dict[str, Any],
            device: torch.device | str) -> tuple[list[UpdateNetwork], int]:
    """Networks of the stages a previous run with the same settings completed, and how many stages that is."""
    path = os.path.join(out_dir, PARTIAL)
    if not os.path.exists(path):
        return [], 0
    checkpoint = load_checkpoint(path, device)
    if checkpoint.meta.get("train_config") != asdict(config) or checkpoint.meta.get("training_set") != training_set:
        raise CheckpointError(f"{path}: left by a training run with other settings; use another --out directory "
                              "or delete the file")
    for network in checkpoint.networks:
        network.train()
    return checkpoint.networks, int(checkpoint.meta["completed_stages"])
