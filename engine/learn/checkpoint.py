"""Checkpoints of the learned solvers' networks: one safetensors file whose header carries JSON metadata (problem,
network architecture and shape, steps, training set, commit, validation metrics). Never a pickle.

A network class that can be checkpointed has three class attributes: `problem` (the problem it solves),
`architecture` (its name in headers) and `config_class` (a frozen dataclass of its shape with `to_dict`), and
is built as cls(config). Version 1 headers (before the architecture was recorded) are pose6d's silhouette CNN.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..bounds import integer
from ..outputs import atomic_path
from torch import nn

FORMAT = "feedbacklab-checkpoint"
VERSION = 2
VERSION_1_ARCHITECTURE = ("pose6d", "silhouette-cnn")
"""What a version 1 header's networks are (it names no architecture)."""
_META_KEY = "feedbacklab"
MAX_STEPS = 20
"""The most feedback steps (update networks) a learned solver runs; the paper's use 3 to 7."""
STEPS = integer(1, MAX_STEPS)


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or does not fit; the message names the file and the fix."""


@dataclass
class Checkpoint:
    """Update networks, one per step (or one shared by all steps), and what they were trained for."""

    networks: list[nn.Module]
    meta: dict[str, Any]

    @property
    def steps(self) -> int:
        return int(self.meta["steps"])

    def network_for_step(self, step: int) -> nn.Module:
        return self.networks[min(step, len(self.networks) - 1)]


def current_commit() -> str:
    """The repository's commit, for the record ('unknown' outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=os.path.dirname(os.path.abspath(__file__)), check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def save_checkpoint(path: str | os.PathLike, networks: list[nn.Module], meta: dict[str, Any],
                    half: bool = False) -> None:
    """Writes the networks' weights (keys 'net{i}.{name}') and the metadata, atomically (engine.outputs). With
    `half`, floating-point weights are stored as float16 (half the file; loading turns them back into the
    networks' float32)."""
    dtype = torch.float16 if half else None
    tensors = {f"net{i}.{name}": value.detach().cpu().to(dtype if value.is_floating_point() else value.dtype).clone()
               for i, network in enumerate(networks) for name, value in network.state_dict().items()}
    header = dict(meta, format=FORMAT, version=VERSION, networks=len(networks), problem=networks[0].problem,
                  architecture=networks[0].architecture, network=networks[0].config.to_dict(),
                  weights="float16" if half else "float32")
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata={_META_KEY: json.dumps(header)})


def load_checkpoint(path: str | os.PathLike, network_class: type[nn.Module],
                    device: torch.device | str = "cpu") -> Checkpoint:
    """Rebuilds the networks, of `network_class`, in eval mode on `device`; CheckpointError with a one-line reason
    otherwise. The header is checked against its bounds, the network class (problem and architecture) and the
    weights before any network is built."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such checkpoint; train one with `feedbacklab train "
                              f"{network_class.problem} --out DIR` (the shipped ones are in assets/checkpoints/)")
    try:
        with safe_open(path, framework="pt") as file:
            header = json.loads((file.metadata() or {}).get(_META_KEY, "{}"))
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except Exception as error:  # safetensors and JSON errors mean the same to the user
        raise CheckpointError(f"{path}: not a safetensors checkpoint ({type(error).__name__})") from None
    config, count = _checked_header(path, header, network_class)
    _check_weights(path, network_class, config, count, tensors)
    networks = []
    for i in range(count):
        network = network_class(config)
        prefix = f"net{i}."
        network.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        networks.append(network.to(device).eval())
    return Checkpoint(networks=networks, meta=header)


def _checked_header(path: str, header: Any, network_class: type[nn.Module]) -> tuple[Any, int]:
    """The header's network config and number of networks, each within its bounds, of the class asked for and
    consistent with the number of steps it was trained for."""
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") not in (1, VERSION):
        raise CheckpointError(f"{path}: not a feedbacklab checkpoint of version 1 or {VERSION}")
    problem, architecture = VERSION_1_ARCHITECTURE if header["version"] == 1 else (
        header.get("problem"), header.get("architecture"))
    if problem != network_class.problem:
        raise CheckpointError(f"{path}: trained for problem {problem!r}, not {network_class.problem!r}; give a "
                              f"checkpoint made by `feedbacklab train {network_class.problem}`")
    if architecture != network_class.architecture:
        raise CheckpointError(f"{path}: holds {architecture!r} networks, not the {network_class.architecture!r} "
                              "networks this solver runs; give a checkpoint trained for this solver")
    network = header.get("network")
    try:
        if not isinstance(network, dict) or not isinstance(network.get("feedback"), bool):
            raise ValueError("the network's settings are missing or not true/false where they should be")
        config = network_class.config_class(**network)
        steps = STEPS.check("steps", header.get("steps"))
        count = STEPS.check("networks", header.get("networks"))
        completed = STEPS.check("completed_stages", header.get("completed_stages", steps))
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: damaged checkpoint header ({_one_line(error)})") from None
    expected = 1 if header.get("shared") else completed
    if count != expected or completed > steps or (not config.feedback and steps != 1):
        raise CheckpointError(f"{path}: damaged checkpoint header ({count} networks for {completed} of {steps} "
                              f"{'shared ' if header.get('shared') else ''}steps)")
    return config, count


def _check_weights(path: str, network_class: type[nn.Module], config: Any, count: int,
                   tensors: dict[str, torch.Tensor]) -> None:
    """The stored weights are exactly those of `count` networks of this config (shapes compared on torch's meta
    device, so a header asking for a huge network allocates nothing), all finite."""
    with torch.device("meta"):
        shapes = {name: tuple(value.shape) for name, value in network_class(config).state_dict().items()}
    expected = {f"net{i}.{name}": shape for i in range(count) for name, shape in shapes.items()}
    if {key: tuple(value.shape) for key, value in tensors.items()} != expected:
        raise CheckpointError(f"{path}: damaged checkpoint (its weights do not fit the {count} network(s) its header "
                              "describes)")
    if not all(bool(torch.isfinite(value).all()) for value in tensors.values()):
        raise CheckpointError(f"{path}: the checkpoint holds NaN or infinite weights (its training diverged); "
                              "train it again")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def check_kind(checkpoint: Checkpoint, path: str, solver: str, feedback: bool) -> None:
    """CheckpointError unless the checkpoint's networks take the input this solver gives them (feedback or not)."""
    if checkpoint.networks[0].config.feedback != feedback:
        trained = "a feedback" if not feedback else "a regression"
        raise CheckpointError(f"{path}: {trained} checkpoint ({checkpoint.meta.get('solver')}) cannot run as the "
                              f"{solver} solver; give a checkpoint trained with{'out' if not feedback else ''} "
                              "feedback or choose the matching solver")
