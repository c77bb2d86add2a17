"""Resuming a training stage part-way: after every epoch the trainer writes the stage's network, Adam's moments,
the learning-rate schedule and both random generators to DIR/epoch.safetensors (tensors and a JSON header, never
a pickle). A run stopped in the middle of a stage, such as a learned fitter's one long stage, picks up at its last
finished epoch and ends with the same weights, bit for bit, as a run that was never stopped."""
from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from ..outputs import atomic_path
from .checkpoint import CheckpointError

EPOCH_STATE = "epoch.safetensors"
_META_KEY = "feedbacklab-epoch-state"


def save_epoch_state(path: str, settings: dict[str, Any], stage: int, epochs_done: int, network: nn.Module,
                     optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler,
                     generator: torch.Generator) -> None:
    """Writes where a stage's training stands after `epochs_done` epochs, atomically (engine.outputs)."""
    tensors = {f"network.{name}": value.detach().cpu().clone() for name, value in network.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    for index, values in optimizer_state["state"].items():
        tensors.update({f"optimizer.{index}.{name}": value.detach().cpu().clone() for name, value in values.items()})
    tensors["generator"] = generator.get_state()
    tensors["torch_rng"] = torch.get_rng_state()
    header = {"settings": settings, "stage": stage, "epochs_done": epochs_done,
              "param_groups": optimizer_state["param_groups"], "schedule": schedule.state_dict()}
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata={_META_KEY: json.dumps(header)})


def load_epoch_state(path: str, settings: dict[str, Any], stage: int, network: nn.Module,
                     optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler,
                     generator: torch.Generator) -> int:
    """Restores a stage's training from `path` and returns its finished epochs: 0 (nothing restored) when there is
    no file or it belongs to another stage. CheckpointError when it was left by a run with other settings or is
    unreadable."""
    if not os.path.exists(path):
        return 0
    try:
        with safe_open(path, framework="pt") as file:
            header = json.loads((file.metadata() or {})[_META_KEY])
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except (OSError, KeyError, ValueError, SafetensorError) as error:
        raise CheckpointError(f"{path}: not a readable epoch state ({error}); delete the file to train the stage "
                              "from its start") from None
    if header.get("settings") != json.loads(json.dumps(settings)):
        raise CheckpointError(f"{path}: left by a training run with other settings; use another --out directory "
                              "or delete the file")
    if header.get("stage") != stage:
        return 0
    try:
        _restore(header, tensors, network, optimizer, schedule, generator)
    except (KeyError, IndexError, RuntimeError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: an epoch state that does not fit this training run ({reason}); delete the "
                              "file to train the stage from its start") from None
    return int(header["epochs_done"])


def _restore(header: dict[str, Any], tensors: dict[str, torch.Tensor], network: nn.Module,
             optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler,
             generator: torch.Generator) -> None:
    device = next(network.parameters()).device
    network.load_state_dict({name[len("network."):]: value.to(device) for name, value in tensors.items()
                             if name.startswith("network.")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": header["param_groups"]})
    schedule.load_state_dict(header["schedule"])
    generator.set_state(tensors["generator"])
    torch.set_rng_state(tensors["torch_rng"])
