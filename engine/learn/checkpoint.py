"""Checkpoints of update networks: one safetensors file whose header carries JSON metadata (problem, image
size, steps, training set, commit, validation metrics). Never a pickle."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..outputs import atomic_path
from .network import NetworkConfig, UpdateNetwork

FORMAT = "feedbacklab-checkpoint"
VERSION = 1
_META_KEY = "feedbacklab"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or does not fit; the message names the file and the fix."""


@dataclass
class Checkpoint:
    """Update networks, one per step (or one shared by all steps), and what they were trained for."""

    networks: list[UpdateNetwork]
    meta: dict[str, Any]

    @property
    def steps(self) -> int:
        return int(self.meta["steps"])

    def network_for_step(self, step: int) -> UpdateNetwork:
        return self.networks[min(step, len(self.networks) - 1)]


def current_commit() -> str:
    """The repository's commit, for the record ('unknown' outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=os.path.dirname(os.path.abspath(__file__)), check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def save_checkpoint(path: str | os.PathLike, networks: list[UpdateNetwork], meta: dict[str, Any]) -> None:
    """Writes the networks' weights (keys 'net{i}.{name}') and the metadata, atomically (engine.outputs)."""
    tensors = {f"net{i}.{name}": value.detach().cpu().clone()
               for i, network in enumerate(networks) for name, value in network.state_dict().items()}
    header = dict(meta, format=FORMAT, version=VERSION, networks=len(networks),
                  network=networks[0].config.to_dict())
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata={_META_KEY: json.dumps(header)})


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> Checkpoint:
    """Rebuilds the networks in eval mode on `device`; CheckpointError with a one-line reason otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such checkpoint; train one with `feedbacklab train pose6d --out DIR` "
                              "(the shipped ones are in assets/checkpoints/)")
    try:
        with safe_open(path, framework="pt") as file:
            header = json.loads((file.metadata() or {}).get(_META_KEY, "{}"))
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except Exception as error:  # safetensors and JSON errors mean the same to the user
        raise CheckpointError(f"{path}: not a safetensors checkpoint ({type(error).__name__})") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise CheckpointError(f"{path}: not a feedbacklab checkpoint of version {VERSION}")
    try:
        config = NetworkConfig(**header["network"])
        networks = []
        for i in range(int(header["networks"])):
            network = UpdateNetwork(config)
            prefix = f"net{i}."
            network.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
            networks.append(network.to(device).eval())
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(error).__name__}: {error})"[:300]) from None
    return Checkpoint(networks=networks, meta=header)


def check_fits(checkpoint: Checkpoint, path: str, problem: str, image_size: int, feedback: bool) -> None:
    """CheckpointError unless the checkpoint was trained for this problem, image size and input kind."""
    meta = checkpoint.meta
    if meta.get("problem") != problem:
        raise CheckpointError(f"{path}: trained for problem {meta.get('problem')!r}, not {problem!r}")
    if meta["network"]["image_size"] != image_size:
        raise CheckpointError(f"{path}: trained on {meta['network']['image_size']} px silhouettes but the "
                              f"observation is {image_size} px; resize it or train at that size (--size)")
    if meta["network"]["feedback"] != feedback:
        kind = "feedback" if meta["network"]["feedback"] else "regression"
        raise CheckpointError(f"{path}: a {kind} checkpoint; use it with the {kind} solver")
