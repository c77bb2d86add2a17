"""Training patches for the jpeg problem's networks: random crops of a folder of clean images (BSD400, as DnCNN
and the supplementary), each flipped and turned at random (the 8 symmetries of the square), encoded as a JPEG
of its own at the training quality, so that its 8 x 8 block grid starts at the crop's corner."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .codec import roundtrip
from .images import load_clean_image

IMAGE_FILES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class PatchSet:
    """Clean patches (N, C, P, P) and their JPEGs at each patch's quality (N,)."""

    clean: torch.Tensor
    observed: torch.Tensor
    quality: torch.Tensor

    def __len__(self) -> int:
        return len(self.clean)


TRAINING_SET = "training images", "BSD400 is ../shared/data/images/Train400 beside the project"


def image_files(folder: str, role: tuple[str, str] = TRAINING_SET) -> list[str]:
    """The image files of a folder, sorted; ValueError (one line) when it is missing or holds none. role: what
    the images are for and where such a folder is, for the message."""
    if not os.path.isdir(folder):
        raise ValueError(f"{folder}: no such folder of {role[0]}; give --images DIR ({role[1]})")
    names = sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_FILES))
    if not names:
        raise ValueError(f"{folder}: holds no {', '.join(IMAGE_FILES)} images")
    return [os.path.join(folder, name) for name in names]


def describe_images(files: list[str]) -> dict[str, object]:
    """What a checkpoint records of its training images: the folder's name, the count and a digest of the names
    and sizes (never the machine's path)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{os.path.basename(path)}:{os.path.getsize(path)};".encode())
    return {"folder": os.path.basename(os.path.dirname(os.path.abspath(files[0]))), "images": len(files),
            "digest": digest.hexdigest()[:16]}


def sample_patches(images: list[np.ndarray], count: int, patch: int, qualities: tuple[int, ...],
                   generator: np.random.Generator, progress: Callable[[int], None] = lambda n: None) -> PatchSet:
    """`count` random crops of `patch` pixels from the (H, W) or (H, W, 3) images, randomly flipped and turned,
    each JPEG-encoded at a quality drawn from `qualities`."""
    usable = [image for image in images if min(image.shape[:2]) >= patch]
    if not usable:
        raise ValueError(f"no training image is at least {patch} x {patch} pixels; use a smaller --patch")
    clean, observed, quality = [], [], []
    for _ in range(count):
        image = usable[generator.integers(len(usable))]
        top = generator.integers(image.shape[0] - patch + 1)
        left = generator.integers(image.shape[1] - patch + 1)
        crop = np.rot90(image[top:top + patch, left:left + patch], k=int(generator.integers(4)))
        if generator.integers(2):
            crop = crop[:, ::-1]
        crop = np.ascontiguousarray(crop)
        q = int(qualities[generator.integers(len(qualities))])
        clean.append(crop)
        observed.append(roundtrip(crop, q))
        quality.append(q)
        progress(1)
    return PatchSet(_as_batch(clean), _as_batch(observed), torch.tensor(quality))


def _as_batch(images: list[np.ndarray]) -> torch.Tensor:
    stacked = torch.from_numpy(np.stack(images).astype(np.float32))
    return stacked[:, None] if stacked.ndim == 3 else stacked.permute(0, 3, 1, 2).contiguous()


def load_training_images(files: list[str], colour: bool) -> list[np.ndarray]:
    return [load_clean_image(path, colour=colour) for path in files]
