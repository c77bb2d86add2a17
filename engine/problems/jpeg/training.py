"""The jpeg problem's learned solvers as tasks of the stage-wise trainer (engine.learn.train).

Training data: random patches of a folder of clean images (BSD400 for the shipped checkpoints), all but its last
VALIDATION_SHARE of files; validation: patches of those last files, so the validation images are never trained
on. Stage t of the feedback restorer trains on the previous stages' estimates x_t with their real JPEG f(x_t)
(Pillow, at each patch's quality), as the supplementary's Sec. 3: the loss is the mean squared error of
x_{t+1} against the clean patch. DnCNN is the same trainer's one-step regression baseline on the same patches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar

import numpy as np
import torch

from ...learn.checkpoint import MAX_STEPS
from ...learn.train import StageData, TrainConfig
from ..spec import bounded
from .codec import roundtrip_batch
from .data import PatchSet, describe_images, image_files, load_training_images, sample_patches
from .network import Restorer, RestorerConfig
from .quality_metrics import psnr

VALIDATION_SHARE = 0.05
BLIND_QUALITIES = (10, 20, 30, 40)
"""The qualities a blind network trains on (DnCNN-3's and the supplementary's)."""
LEARNED_KINDS = {"feedback": (True, False), "feedback-shared": (True, True), "dncnn": (False, False)}
"""Each learned solver's (feedback, shared)."""


@dataclass(frozen=True)
class JpegTrainConfig(TrainConfig):
    """Settings of a jpeg training run (the `feedbacklab train jpeg` flags)."""

    steps: int = bounded(3, 1, MAX_STEPS)
    """Feedback steps (stages): the supplementary unrolls 3; DnCNN has one."""
    samples: int = bounded(10_000, 2, 10_000_000)
    """Training patches per stage."""
    validation_samples: int = bounded(500, 1, 100_000)
    """Validation patches (of the held-out images)."""
    batch_size: int = bounded(32, 2, 4096)
    learning_rate: float = bounded(1e-3, 0.0, 1.0, low_open=True)
    quality: int = bounded(10, 1, 100)
    """The JPEG quality factor trained on."""
    blind: bool = False
    """Train one network for qualities 10, 20, 30 and 40 (drawn per patch) instead of `quality` alone."""
    patch: int = bounded(40, 16, 256)
    """Side of the training patches in pixels (DnCNN's: 40)."""
    depth: int = bounded(10, 3, 30)
    """Convolution layers (DnCNN's: 17-20)."""
    width: int = bounded(32, 1, 256)
    """Feature channels (DnCNN's: 64)."""
    batch_norm: bool = True
    colour: bool = False
    """Train on RGB images (3 channels) instead of grey."""

    @property
    def solver_name(self) -> str:
        return next(name for name, kind in LEARNED_KINDS.items() if kind == (self.feedback, self.shared))

    @property
    def qualities(self) -> tuple[int, ...]:
        return BLIND_QUALITIES if self.blind else (self.quality,)

    def network(self) -> RestorerConfig:
        return RestorerConfig(feedback=self.feedback, channels=3 if self.colour else 1, depth=self.depth,
                              width=self.width, batch_norm=self.batch_norm)


JpegTrainConfig.FLAGS = {f.name: "--" + f.name.replace("_", "-") for f in fields(JpegTrainConfig)}


@dataclass
class JpegTask:
    """The feedback restorer (per-step or shared) and DnCNN on one folder of clean images."""

    config: JpegTrainConfig
    folder: str
    network_class: ClassVar[type] = Restorer

    def __post_init__(self) -> None:
        files = image_files(self.folder)
        held_out = max(1, math.ceil(VALIDATION_SHARE * len(files))) if len(files) > 1 else 0
        self.train_files, self.validation_files = files[:len(files) - held_out], files[len(files) - held_out:] or files

    @property
    def solver_name(self) -> str:
        return self.config.solver_name

    def new_network(self) -> Restorer:
        return Restorer(self.config.network())

    def _patches(self, files: list[str], count: int, seed: int, progress: Callable[[int], None]) -> PatchSet:
        images = load_training_images(files, self.config.colour)
        return sample_patches(images, count, self.config.patch, self.config.qualities,
                              np.random.default_rng(seed), progress)

    def training_data(self, samples: int, shard: tuple[int, int], progress: Callable[[int], None]) -> PatchSet:
        rank, world = shard
        return self._patches(self.train_files, len(range(rank, samples, world)), self.config.seed * world + rank,
                             progress)

    def validation_data(self) -> PatchSet:
        return self._patches(self.validation_files, self.config.validation_samples, 2**31 + self.config.seed,
                             lambda n: None)

    def initial(self, data: PatchSet) -> torch.Tensor:
        return data.observed.clone()

    def stage_data(self, data: PatchSet, x: torch.Tensor, progress: Callable[[int], None] | None) -> StageData:
        stage = {"x": x.clone(), "clean": data.clean, "observed": data.observed}
        if self.config.feedback:
            stage["compressed"] = roundtrip_batch(x, data.quality)
        if progress is not None:
            progress(len(x))
        return stage

    def prepare(self, network: Restorer, data: StageData) -> None:
        pass

    def _restore(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        if not self.config.feedback:
            return network(batch["observed"])
        return network(batch["x"], batch["compressed"], batch["observed"])

    def loss(self, network: Callable[..., torch.Tensor], batch: StageData) -> torch.Tensor:
        return (self._restore(network, batch) - batch["clean"]).square().mean()

    def advance(self, network: Restorer, batch: StageData) -> torch.Tensor:
        return self._restore(network, batch).clamp(0.0, 1.0)

    def validation_metrics(self, data: PatchSet, x: torch.Tensor) -> dict[str, float]:
        return {"psnr": float(psnr(x, data.clean).mean()), "jpeg_psnr": float(psnr(data.observed, data.clean).mean())}

    def describe(self, metrics: dict[str, float]) -> str:
        return f"PSNR {metrics['psnr']:.2f} dB (the JPEGs: {metrics['jpeg_psnr']:.2f} dB)"

    def meta(self) -> dict[str, Any]:
        return {"training_set": {**describe_images(self.train_files), "held_out": len(self.validation_files),
                                 "patch": self.config.patch, "augmentation": "8 flips and quarter turns"},
                "qualities": list(self.config.qualities), "colour": self.config.colour}
