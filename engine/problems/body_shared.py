"""What the SMPL-family problems share: the body model the user may load, estimates typed by the user (a library
pose or motion, 'squat', 'walk-cycle': every frame, a .npy/.npz/.bvh file of SMPL poses retargeted to the default
body, or the problem's own numbers), reading an observation's JSON file, and the body views' legend."""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any, Callable

import torch

from .spec import InputSpec, Legend, parse_numbers

MAX_JSON_BYTES = 64 * 2**20

POSES_HINT = "a library pose (squat, a-pose, ...), walk-cycle, a .npy/.npz/.bvh file or {} comma-separated numbers"


@functools.lru_cache(maxsize=8)
def shared_body(path: str | None, model_type: str):
    """The body model at path (None: the shipped default body) in model_type's format, loaded once per process and
    shared by the input's check, the problem and its pictures."""
    from ..bodies.model import load_body

    return load_body(path, model_type=model_type)


def body_input(problem: str, model_type: str, needs: str) -> InputSpec:
    """The 'body' input of a SMPL-family problem: a model file of model_type's format (`needs` says so to the
    user). Its value is the file's path (None: the default body); a file that cannot be used is refused with one
    line naming it (ValueError)."""

    def load(text: str | None) -> str | None:
        if text is None:
            return None
        try:
            shared_body(text, model_type)
        except ValueError as error:
            raise ValueError(f"{problem} needs {needs}: {error}") from None
        return text

    return InputSpec("body", "Body model", f"{needs}, as an official .pkl or .npz model file (default: the shipped "
                     "Anny body)", load, (".pkl", ".npz"),
                     describe=lambda path: f"body model {_body_name(path)}", name_of=_body_name)


def _body_name(path: str | None) -> str:
    return "default (Anny)" if path is None else Path(path).name


def parse_body_estimate(text: str, label: str, dimension: int, from_poses: Callable[[torch.Tensor], torch.Tensor]
                        ) -> torch.Tensor:
    """(B, dimension) estimates: from_poses of the SMPL poses (B, 24, 3) a name or file gives, or one row of
    `dimension` comma-separated numbers; ValueError (one line, `label` naming what was expected) otherwise."""
    from .ik.data import typed_poses

    hint = POSES_HINT.format(dimension)
    if "," in text:
        return parse_numbers(text, dimension, label, hint)
    return from_poses(typed_poses(text, f"a {label}", hint).float())


def read_json(path: str, missing: str) -> Any:
    """The content of an observation's JSON file; ValueError (one line naming the file) when it is missing
    (`missing` says how to make one), larger than MAX_JSON_BYTES or not JSON."""
    if not os.path.isfile(path):
        raise ValueError(f"{path}: {missing}")
    if os.path.getsize(path) > MAX_JSON_BYTES:
        raise ValueError(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MiB; give long sequences as .npy")
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({type(error).__name__})") from None


def error_legend() -> Legend:
    """The legend of the fitted body views' vertex-error colours."""
    from ..bodies.pictures import error_legend_mm

    return Legend("body by vertex error: ", tuple(error_legend_mm()))
