"""The stage-wise trainer of every learned solver (Alg. 1, Sec. 3.2-3.3 of the deep feedback paper).

Stage t trains network g^t on what the already trained stages make of the training problems: the estimates x_t
(from task.initial for stage 0) and whatever the task derives from them (pyrender's silhouettes of x_t for
pose6d, forward kinematics for ik), with the task's loss. With `shared`, one network is trained through all
stages (on the union of the stages' data, with the same number of gradient steps per stage); with
`feedback=False`, one stage without feedback: a regression baseline. A problem takes part through a
`TrainingTask` (below); the loop, the optimiser, resuming, checkpoints and torch.distributed are written once
here.

Deterministic per seed on one process. Resumable per stage: after each stage the networks so far are
written to DIR/partial.safetensors, and a run with the same settings picks up from there (bit for bit with
per-step networks; a shared network replays the finished stages with its latest weights, so its resumed run
is close to, not identical with, an uninterrupted one). Within a stage, resumable per epoch
(engine.learn.epoch_state). The final checkpoint stores its weights as float16
(half the size). Multi-process through torch.distributed (torchrun):
every rank makes and trains on its own shard of the training problems, DDP averages the gradients, rank 0
validates and writes the checkpoints.
"""
from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, ClassVar, Protocol

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..bounds import SEED
from ..outputs import directory_lock
from ..problems.spec import bounded, check_config
from .checkpoint import MAX_STEPS, CheckpointError, current_commit, load_checkpoint, save_checkpoint
from .epoch_state import EPOCH_STATE, load_epoch_state, save_epoch_state

PARTIAL = "partial.safetensors"
MIN_SAMPLES = 2
PREDICT_BATCH = 256
Progress = Callable[[str, int], Callable[[int], None]]
"""progress(description, total) returns a callback taking increments, for progress bars."""
StageData = dict[str, torch.Tensor]
"""What one stage trains on: tensors whose first dimension is the training problem (kept on the CPU)."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings every stage-wise training run has; a problem's training config adds its network's shape."""

    steps: int = bounded(5, 1, MAX_STEPS)
    """Feedback steps (stages); 1 for a regression baseline."""
    shared: bool = False
    """One network for all steps instead of one per step."""
    feedback: bool = True
    """False: a regression baseline (the observation only, one step)."""
    warm_start: bool = False
    """Each step's network starts from the previous step's trained weights instead of from scratch."""
    samples: int = bounded(10000, MIN_SAMPLES, 10_000_000)
    """Training problems per stage (at least two per process: a batch needs two samples)."""
    validation_samples: int = bounded(300, 1, 100_000)
    epochs: int = bounded(4, 1, 1000)
    """Passes over a stage's samples."""
    batch_size: int = bounded(64, 2, 4096)
    learning_rate: float = bounded(2e-3, 0.0, 1.0, low_open=True)
    seed: int = bounded(0, SEED.low, SEED.high)

    FLAGS: ClassVar[dict[str, str]] = {"steps": "--steps", "samples": "--samples", "epochs": "--epochs",
                                       "seed": "--seed"}
    """The command-line flags of the fields that have one, for messages."""

    def __post_init__(self) -> None:
        check_config(self, label=lambda name: self.FLAGS.get(name, name.replace("_", " ")))
        if not self.feedback and self.steps != 1:
            raise ValueError("a regression baseline has exactly one step")


class TrainingTask(Protocol):
    """One problem's learned solver as the trainer sees it."""

    config: TrainConfig
    solver_name: str
    """The solver the checkpoint is for (its file is named PROBLEM-SOLVER.safetensors)."""
    network_class: type[nn.Module]

    def new_network(self) -> nn.Module: ...

    def training_data(self, samples: int, shard: tuple[int, int], progress: Callable[[int], None]) -> Any:
        """The training problems, only every world-th from rank on with shard (rank, world)."""

    def validation_data(self) -> Any: ...

    def initial(self, data: Any) -> torch.Tensor:
        """x_0 of every problem of data."""

    def stage_data(self, data: Any, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        """What a stage at estimates x trains on; must hold 'x'."""

    def prepare(self, network: nn.Module, data: StageData) -> None:
        """Called before a network is first trained (e.g. to set the scale of its outputs from the targets)."""

    def loss(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        """The training loss of a batch (on the network's device); `network` may be the DDP wrapper."""

    def advance(self, network: nn.Module, batch: StageData) -> torch.Tensor:
        """x_{t+1} of a batch (no gradient needed)."""

    def validation_metrics(self, data: Any, x: torch.Tensor) -> dict[str, float]: ...

    def describe(self, metrics: dict[str, float]) -> str:
        """One line of validation figures for the log."""

    def meta(self) -> dict[str, Any]:
        """What the checkpoint must record beyond the run's settings (training set, skeleton, image size)."""


def checkpoint_path(out_dir: str, problem: str, solver: str) -> str:
    """Where a run training this problem's solver writes its final checkpoint."""
    return os.path.join(out_dir, f"{problem}-{solver}.safetensors")


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(task: TrainingTask, out_dir: str, progress: Progress | None = None, log: Callable[[str], None] = print,
          device: torch.device | str = "cpu") -> str:
    """Trains all stages (resuming from out_dir when possible) on `device` and returns the final checkpoint's
    path. Data stays on the CPU; batches move to the device. Progress bars on rank 0 only. The directory is
    locked while rank 0 trains: a second run into it fails at once (engine.outputs.directory_lock)."""
    os.makedirs(out_dir, exist_ok=True)
    with directory_lock(out_dir) if _distributed()[0] == 0 else contextlib.nullcontext():
        return _train(task, out_dir, progress, log, device)


def _train(task: TrainingTask, out_dir: str, progress: Progress | None, log: Callable[[str], None],
           device: torch.device | str) -> str:
    config = task.config
    rank, world = _distributed()
    started = time.perf_counter()
    commit = current_commit()  # the code this run trains with, whatever is committed while it runs
    torch.manual_seed(config.seed)
    samples = config.samples - config.samples % world
    if samples < MIN_SAMPLES * world:
        raise ValueError(f"--samples {config.samples}: {world} processes need at least {MIN_SAMPLES * world} "
                         f"({MIN_SAMPLES} each)")
    bar = progress if (progress is not None and rank == 0) else (lambda description, total: (lambda n: None))

    data = task.training_data(samples, (rank, world), bar("making training problems",
                                                          len(range(rank, samples, world))))
    validation = task.validation_data()
    networks, completed = _resume(task, out_dir, device)
    x, x_validation = task.initial(data), task.initial(validation)
    history: list[StageData] = []
    metrics: list[dict[str, float]] = []
    for stage in range(config.steps):
        stage_data = task.stage_data(data, x, bar(f"stage {stage + 1}/{config.steps}: inputs", len(x)))
        if config.shared:
            history.append(stage_data)
        if stage < completed:
            network = networks[0 if config.shared else stage]
        else:
            network = networks[0] if (config.shared and networks) else _new_network(task, networks, device)
            train_set = {key: torch.cat([part[key] for part in history]) for key in stage_data} \
                if config.shared else stage_data
            total = config.epochs * math.ceil(len(x) / config.batch_size)
            _fit(task, network, train_set, stage, len(x), bar(f"stage {stage + 1}/{config.steps}: training", total),
                 out_dir, log)
            if not config.shared or not networks:
                networks.append(network)
        network.eval()
        if stage + 1 < config.steps:  # the last stage's estimates of the training set feed nothing
            x = _advance(task, network, stage_data)
        x_validation = _advance(task, network, task.stage_data(validation, x_validation, None))
        metrics.append(task.validation_metrics(validation, x_validation))
        if rank == 0:
            log(f"stage {stage + 1}/{config.steps}: validation {task.describe(metrics[-1])}")
            if stage >= completed:
                save_checkpoint(os.path.join(out_dir, PARTIAL), networks,
                                _meta(task, metrics, stage + 1, time.perf_counter() - started, world, commit))
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(out_dir, EPOCH_STATE))  # the partial checkpoint holds the stage now
        if world > 1:
            dist.barrier()
    final = checkpoint_path(out_dir, task.network_class.problem, task.solver_name)
    if rank == 0:
        save_checkpoint(final, networks, _meta(task, metrics, config.steps, time.perf_counter() - started, world,
                                               commit), half=True)  # the partial one stays exact, for resuming
        os.remove(os.path.join(out_dir, PARTIAL))
    return final


def _new_network(task: TrainingTask, trained: list[nn.Module], device: torch.device | str) -> nn.Module:
    """A fresh network for the next stage, or with warm_start a copy of the last trained one."""
    if task.config.warm_start and trained:
        return copy.deepcopy(trained[-1])
    return task.new_network().to(device)


def _advance(task: TrainingTask, network: nn.Module, data: StageData) -> torch.Tensor:
    """x_{t+1} of a whole set (kept on the CPU), in batches on the network's device."""
    device = next(network.parameters()).device
    moved = []
    with torch.no_grad():
        for start in range(0, len(data["x"]), PREDICT_BATCH):
            batch = {key: value[start:start + PREDICT_BATCH].to(device) for key, value in data.items()}
            moved.append(task.advance(network, batch).cpu())
    return torch.cat(moved)


def _fit(task: TrainingTask, network: nn.Module, data: StageData, stage: int, batches_of: int, progress,
         out_dir: str, log: Callable[[str], None]) -> None:
    """Adam with a cosine schedule on the task's loss; `batches_of` samples' worth of steps per epoch. Starts from
    out_dir's epoch state when it holds this stage, and writes one after every epoch (rank 0)."""
    config = task.config
    rank, world = _distributed()
    network.train()
    device = next(network.parameters()).device
    task.prepare(network, data)
    model = DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None) \
        if world > 1 else network
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    steps_per_epoch = math.ceil(batches_of / config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed * 1000 + stage)
    count = len(data["x"])
    state_path, settings = os.path.join(out_dir, EPOCH_STATE), {**_settings(task), "processes": world}
    done = load_epoch_state(state_path, settings, stage, network, optimizer, schedule, generator)
    if done:
        log(f"stage {stage + 1}/{config.steps}: resumed after epoch {done}/{config.epochs} ({state_path})")
        progress(done * steps_per_epoch)
    for epoch in range(done, config.epochs):
        order = torch.randperm(count, generator=generator)[: steps_per_epoch * config.batch_size]
        if len(order) % config.batch_size == 1:  # batch norm needs two samples: no batch of one at the end
            order = order[:-1]
        losses = []
        for batch in order.split(config.batch_size):
            loss = task.loss(model, {key: value[batch].to(device) for key, value in data.items()})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            progress(1)
            losses.append(loss.detach())
        if rank == 0:
            save_epoch_state(state_path, settings, stage, epoch + 1, network, optimizer, schedule, generator)
            log(f"stage {stage + 1}/{config.steps}: epoch {epoch + 1}/{config.epochs}, mean training loss "
                f"{float(torch.stack(losses).mean()):.4g}")
    if not all(bool(torch.isfinite(value).all()) for value in network.state_dict().values()):
        raise ValueError(f"training stage {stage + 1} diverged (NaN or infinite weights); nothing was written for it")


def _meta(task: TrainingTask, metrics: list[dict[str, float]], completed: int, seconds: float, world: int,
          commit: str) -> dict[str, Any]:
    config = task.config
    return {**task.meta(), "solver": task.solver_name, "steps": config.steps, "shared": config.shared,
            "completed_stages": completed, "train_config": asdict(config), "commit": commit,
            "validation": metrics, "train_seconds": round(seconds, 1), "processes": world,
            "threads": torch.get_num_threads()}


def _settings(task: TrainingTask) -> dict[str, Any]:
    """What a run must share with the one whose partial state it resumes."""
    return {**task.meta(), "train_config": asdict(task.config), "solver": task.solver_name}


def _resume(task: TrainingTask, out_dir: str, device: torch.device | str) -> tuple[list[nn.Module], int]:
    """Networks of the stages a previous run with the same settings completed, and how many stages that is."""
    path = os.path.join(out_dir, PARTIAL)
    if not os.path.exists(path):
        return [], 0
    checkpoint = load_checkpoint(path, task.network_class, device)
    recorded = {key: checkpoint.meta.get(key) for key in (*task.meta(), "train_config", "solver")}
    if recorded != json.loads(json.dumps(_settings(task))):  # tuples as lists
        raise CheckpointError(f"{path}: left by a training run with other settings; use another --out directory "
                              "or delete the file")
    for network in checkpoint.networks:
        network.train()
    return checkpoint.networks, int(checkpoint.meta["completed_stages"])
