"""JPEG deblocking (the supplementary's Sec. 3): x is the clean image, f a JPEG encode and decode at the quality
factor (not differentiable), the observation y = f(x) the decoded JPEG.

x is flat (B, C*H*W), values in [0, 1], the observation's shape (C, H, W): C = 1 (grey, the luma) or 3 (RGB,
--colour). The problem holds either clean images (the --image opened, or the built-in procedural scene), whose
JPEG is the observation and which are the ground truth, or an opened JPEG, which is the observation itself, at
the quality its quantisation tables tell, its clean image unknown. Every solver starts from x_0 = y.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..spec import ArraySpec, Metric, bounded, check_config
from .codec import roundtrip_batch
from .images import MAX_SIDE, LoadedImage
from .quality_metrics import psnr, ssim
from .scene import procedural_scene

NAME = "jpeg"
GREY_LEVELS = 255.0
OBSERVATION = ArraySpec(("C", "H", "W"), "the decoded JPEG: C = 1 grey or 3 RGB, values in [0, 1]",
                        storage="unit-uint8", max_size=MAX_SIDE)
METRICS = (
    Metric("psnr", "PSNR", "dB", "{:.2f}", ("mean",), lower_is_better=False),
    Metric("ssim", "SSIM", "", "{:.4f}", ("mean",), lower_is_better=False),
    Metric("psnr_gain", "Gain", "dB", "{:+.2f}", ("mean",), lower_is_better=False),
    Metric("jpeg_psnr", "f(x) vs y", "dB", "{:.2f}", ("mean",), needs_ground_truth=False, lower_is_better=False),
)
"""PSNR and SSIM against the clean image (on the luma for colour), the PSNR gain over the JPEG itself, and how
close the estimate's own JPEG is to the observed one (known without the clean image)."""


@dataclass(frozen=True)
class JpegConfig:
    """The JPEG of the forward process and the built-in image."""

    quality: int = bounded(10, 1, 100)
    """JPEG quality factor of the forward process (libjpeg's 1-100; the shipped restorers were trained at 10 and
    20, and blind over 10-40)."""
    colour: bool = False
    """Restore RGB images (the networks run on each channel) instead of grey ones (the luma)."""
    file_quality: bool = True
    """An opened JPEG is the observation, at the quality estimated from its tables; false: take any opened image
    as clean and compress it at --quality."""
    scene_size: int = bounded(128, 16, 2048)
    """Side in pixels of the built-in procedural scene, the clean image when none is opened."""
    scene_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the built-in scene (item i of a batch is the scene of seed + i)."""

    def __post_init__(self) -> None:
        check_config(self)


@dataclass(frozen=True)
class JpegProblem:
    """A batch of images of one shape: clean ones (ground truth known) or observed JPEGs (unknown)."""

    clean: torch.Tensor | None
    """(B, C, H, W) the clean images, or None for an opened JPEG."""
    observed: torch.Tensor | None
    """(B, C, H, W) the opened JPEG, or None when the observation is made from the clean images."""
    quality: int
    config: JpegConfig = JpegConfig()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    parameter_names = ()
    observation_spec = OBSERVATION

    @property
    def images(self) -> torch.Tensor:
        return self.clean if self.clean is not None else self.observed  # type: ignore[return-value]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of an item."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def tangent_dim(self) -> int:
        return int(np.prod(self.shape))

    @property
    def batch_size(self) -> int:
        return len(self.images)

    def subset(self, index: torch.Tensor) -> "JpegProblem":
        index = index.to(self.images.device)
        return replace(self, clean=None if self.clean is None else self.clean[index],
                       observed=None if self.observed is None else self.observed[index])

    def as_images(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) views of flat estimates (B, D)."""
        if x.ndim != 2 or x.shape[1] != self.tangent_dim:
            size = "x".join(map(str, self.shape))
            raise ValueError(f"jpeg estimates must have shape (B, {self.tangent_dim}) for {size} images, "
                             f"got {tuple(x.shape)}")
        return x.reshape(len(x), *self.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) the JPEG of each estimate (clipped to [0, 1]) at the problem's quality."""
        return roundtrip_batch(self.as_images(x).clamp(0.0, 1.0), self.quality)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the mean squared difference of f(x) and y, in grey levels squared: what every feedback compares."""
        return (prediction - observation).square().flatten(1).mean(1) * GREY_LEVELS ** 2

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        values = {"jpeg_psnr": psnr(prediction, observation)}
        if ground_truth is None:
            return values
        estimate, clean = self.as_images(x), self.as_images(ground_truth)
        values["psnr"] = psnr(estimate, clean)
        values["ssim"] = ssim(estimate, clean)
        values["psnr_gain"] = values["psnr"] - psnr(observation, clean)
        return values

    def initial_estimate(self) -> torch.Tensor:
        """x_0 = y, the JPEG itself."""
        return self.observation().flatten(1).clone()

    def observation(self) -> torch.Tensor:
        """(B, C, H, W) y: the opened JPEG, or the JPEG of the clean images."""
        return self.observed if self.observed is not None else roundtrip_batch(self.clean, self.quality)

    def loaded_observation(self) -> torch.Tensor | None:
        return self.observed

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, D) the clean images (they are the problem's input, not drawn by the generator)."""
        if self.clean is None:
            raise ValueError("the opened image is a JPEG: its clean image is unknown (open a clean image, or set "
                             "--file-quality false to compress the JPEG again)")
        return self.clean.flatten(1).clone()

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx


def image_tensor(pixels: np.ndarray, colour: bool) -> torch.Tensor:
    """(1, C, H, W) of (H, W) or (H, W, 3) pixels, as grey (BT.601 luma, full range, on 8-bit levels as Pillow's
    grey conversion) or RGB."""
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3 if colour else 1, axis=2)
    elif not colour:
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        pixels = np.round((pixels * weights).sum(2, keepdims=True) * 255.0) / 255.0
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]


def make_problem(config: JpegConfig, image: LoadedImage | None, device: torch.device | str = "cpu",
                 batch_size: int | None = None) -> JpegProblem:
    """The problem of an opened image (repeated over the batch) or of the built-in scenes (one per item)."""
    batch = batch_size or 1
    if image is None:
        scenes = [procedural_scene(config.scene_size, config.scene_seed + i, config.colour) for i in range(batch)]
        clean = torch.cat([image_tensor(scene, config.colour) for scene in scenes])
        return JpegProblem(clean.to(device), None, config.quality, config, torch.device(device))
    pixels = image_tensor(image.pixels, config.colour).expand(batch, -1, -1, -1).contiguous().to(device)
    if image.quality is not None and config.file_quality:
        return JpegProblem(None, pixels, image.quality, config, torch.device(device))
    return JpegProblem(pixels, None, config.quality, config, torch.device(device))


def x_item_image(x: np.ndarray, observation: np.ndarray) -> np.ndarray:
    """One flat estimate (D,) as an image shaped like its observation item (C, H, W)."""
    return np.asarray(x, dtype=np.float32).reshape(observation.shape)

