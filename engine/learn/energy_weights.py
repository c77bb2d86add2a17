"""Files of learned energy weights (Wibergian learning): one safetensors file of named tensors whose header
carries JSON metadata (problem, settings, data, training time, commit). Never a pickle.

A problem that learns its energy declares the weights it expects, name -> shape; a file is refused with one line
when it is missing, damaged, made for another problem, or its weights do not have those names and shapes or are
not finite.
"""
from __future__ import annotations

import functools
import json
import os
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..outputs import atomic_path

FORMAT = "feedbacklab-energy"
VERSION = 1
_META_KEY = "feedbacklab"


class EnergyWeightsError(ValueError):
    """An energy weights file that is missing, unreadable or does not fit; the message names the file and the fix."""


def save_energy_weights(path: str | os.PathLike, problem: str, weights: dict[str, torch.Tensor],
                        meta: dict[str, Any]) -> None:
    """Writes the weights (float32) and the metadata, atomically."""
    tensors = {name: value.detach().cpu().float().contiguous().clone() for name, value in weights.items()}
    header = dict(meta, format=FORMAT, version=VERSION, problem=problem)
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata={_META_KEY: json.dumps(header)})


def load_energy_weights(path: str | os.PathLike, problem: str, shapes: dict[str, tuple[int, ...]]
                        ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(weights, metadata) of a file made by save_energy_weights for `problem` with exactly these weights; an
    EnergyWeightsError with a one-line reason otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise EnergyWeightsError(f"{path}: no such energy weights file; make one with `feedbacklab train {problem} "
                                 "--out FILE`")
    try:
        with safe_open(path, framework="pt") as file:
            header = json.loads((file.metadata() or {}).get(_META_KEY, "{}"))
            stored = {key: tuple(file.get_slice(key).get_shape()) for key in file.keys()}
            if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
                raise EnergyWeightsError(f"{path}: not a feedbacklab energy weights file (version {VERSION})")
            if header.get("problem") != problem:
                raise EnergyWeightsError(f"{path}: energy weights of problem {header.get('problem')!r}, not "
                                         f"{problem!r}; give a file made by `feedbacklab train {problem}`")
            if stored != {name: tuple(shape) for name, shape in shapes.items()}:
                raise EnergyWeightsError(f"{path}: its weights {_describe(stored)} do not fit this energy's "
                                         f"{_describe(shapes)}; train it again with this version")
            weights = {key: file.get_tensor(key).float() for key in file.keys()}
    except EnergyWeightsError:
        raise
    except Exception as error:  # safetensors and JSON errors mean the same to the user
        raise EnergyWeightsError(f"{path}: not a safetensors energy weights file ({type(error).__name__})") from None
    if not all(bool(torch.isfinite(value).all()) for value in weights.values()):
        raise EnergyWeightsError(f"{path}: holds NaN or infinite weights (its training diverged); train it again")
    return weights, header


def _describe(shapes: dict[str, tuple[int, ...]]) -> str:
    return ", ".join(f"{name} {tuple(shape)}" for name, shape in sorted(shapes.items())) or "(none)"


def shipped_energy(problem: str) -> str:
    """The trained energy weights shipped for a problem: assets/wibergian/PROBLEM.safetensors."""
    from .solver import ASSETS

    return os.path.join(ASSETS, "wibergian", f"{problem}.safetensors")


def energy_choice(problem: str, choice: str, untrained: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The weights a problem's `energy` setting names: 'untrained' (these values), 'trained' (the shipped file)
    or a file made by `feedbacklab train PROBLEM --out FILE`; read once per file version."""
    if choice == "untrained":
        return untrained
    path = shipped_energy(problem) if choice == "trained" else os.path.abspath(choice)
    shapes = tuple(sorted((name, tuple(value.shape)) for name, value in untrained.items()))
    stat = os.stat(path) if os.path.isfile(path) else None
    stamp = None if stat is None else (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a rewrite within the clock's
    # resolution still changes the inode (atomic writes replace the file) or the size
    return dict(_cached_weights(path, stamp, problem, shapes))


@functools.lru_cache(maxsize=16)
def _cached_weights(path: str, stamp: tuple | None, problem: str, shapes: tuple) -> tuple:
    weights, _ = load_energy_weights(path, problem, dict(shapes))
    return tuple(weights.items())
