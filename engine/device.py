"""The compute device, chosen once: CUDA when present, else CPU (FEEDBACKLAB_DEVICE overrides)."""
from __future__ import annotations

import functools
import os

import torch


@functools.lru_cache(maxsize=1)
def default_device() -> torch.device:
    """CUDA when available, else CPU; the environment variable FEEDBACKLAB_DEVICE (cpu, cuda, cuda:1) wins."""
    requested = os.environ.get("FEEDBACKLAB_DEVICE")
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
