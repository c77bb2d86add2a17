"""Inverse kinematics of SMPL's 24-joint skeleton (Deep Feedback Inverse Problem Solver, Sec. 6): the spec."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...npfiles import load_npy_observation, save_npy
from ...bodies.skeleton import JOINT_INDEX, NUM_JOINTS
from ..spec import Command, InputSpec, Legend, Metric, Panel, ParameterGroup, ProblemSpec, format_numbers, parse_numbers
from .commands import add_bench_arguments, add_train_arguments, bench_ik, train_ik
from .problem import OBSERVATION, PARAMETER_NAMES, IKConfig, IKProblem
from .slice import SLICE_AXES
from .solvers import CAPABILITIES, SOLVERS

__all__ = ["SPEC", "IKConfig", "IKProblem"]
OBSERVATION_EXTENSIONS = (".npy",)


@dataclass(frozen=True)
class LoadedMotion:
    """A motion file's frames, retargeted to SMPL: poses (F, 24, 3) axis-angle."""

    name: str
    poses: torch.Tensor


def _load_motion(text: str | None) -> LoadedMotion | None:
    if text is None:
        return None
    from .data import load_motion

    if not text.lower().endswith(".bvh"):
        raise ValueError(f"--motion {text}: expected a .bvh motion capture file")
    return LoadedMotion(os.path.basename(text), load_motion(text))


def _motion_from_arrays(name: str, arrays: dict[str, np.ndarray]) -> LoadedMotion:
    poses = np.asarray(arrays.get("poses"))
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3) or not len(poses) or not np.isfinite(poses).all():
        raise ValueError(f"motion {name!r} must hold finite (F, {NUM_JOINTS}, 3) axis-angle poses")
    return LoadedMotion(name, torch.as_tensor(poses, dtype=torch.float32))


def _make(config: IKConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> IKProblem:
    from .data import rest_joints_for, select_frames
    from .prior import EulerPrior

    rest = rest_joints_for(config.betas)
    motion = inputs.get("motion")
    poses = None
    if motion is not None:
        poses = motion.poses[select_frames(config.frames, len(motion.poses))].reshape(-1, 3 * NUM_JOINTS)
    size = batch_size or (len(poses) if poses is not None else 1)
    return IKProblem(rest.to(device), EulerPrior.load(), config, size, torch.device(device),
                     None if poses is None else poses.to(device))


def _load_observation(path: str) -> np.ndarray:
    return load_npy_observation(path, "ik", lambda shape: len(shape) == 3 and shape[1:] == (NUM_JOINTS, 3),
                                "target joints", f"(N, {NUM_JOINTS}, 3) in metres", OBSERVATION.check_limits, 2)


def _parse_x(text: str, config: IKConfig | None = None) -> torch.Tensor:
    """A library pose or motion name ('squat', 'walk-cycle': every frame), a .npy/.npz of axis-angle poses or a
    .bvh file (every frame: a batch), or 72 comma-separated numbers."""
    from .data import typed_poses

    hint = ("72 comma-separated axis-angle numbers, a library pose (squat, a-pose, ...), walk-cycle or a "
            ".npy/.npz/.bvh file")
    if "," not in text:
        return typed_poses(text, "an ik pose", hint).reshape(-1, 3 * NUM_JOINTS)
    return parse_numbers(text, 3 * NUM_JOINTS, "ik pose", hint)


def _skeleton_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                    truth: np.ndarray | None) -> np.ndarray:
    from .pictures import skeleton_views

    return skeleton_views(observation, prediction, size=(360, 200), legend=False)


def _body_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                truth: np.ndarray | None) -> np.ndarray:
    from .pictures import body_views

    return body_views(x, size=(360, 200))


def _draw_targets(observation: np.ndarray) -> np.ndarray:
    from .pictures import skeleton_views

    return skeleton_views(observation, observation, size=(360, 200), legend=False)


def _legend() -> Legend:
    from .pictures import error_legend

    return Legend("bones by joint error: ", tuple(error_legend()))


SPEC = ProblemSpec(
    name="ik",
    title="Inverse kinematics of a human skeleton",
    summary="24 joint rotations of SMPL's skeleton from target joint positions (forward kinematics), paper Sec. 6",
    config=IKConfig,
    inputs=(InputSpec("motion", "Motion", "a BVH motion capture file (CMU-style joint names), retargeted to SMPL; "
                      "its --frames are the ground truths", _load_motion, (".bvh",),
                      lambda motion: f"motion {motion.name}: {len(motion.poses)} frames",
                      lambda motion: {"poses": motion.poses.numpy()}, _motion_from_arrays,
                      lambda motion: motion.name),),
    make=_make,
    parameters=tuple(ParameterGroup(name, PARAMETER_NAMES[3 * j:3 * j + 3], "rad", "rotation-vector")
                     for name, j in sorted(JOINT_INDEX.items(), key=lambda item: item[1])),
    tangent_dim=3 * NUM_JOINTS,
    observation=OBSERVATION,
    load_observation=_load_observation,
    save_observation=save_npy,
    observation_extensions=OBSERVATION_EXTENSIONS,
    parse_x=_parse_x,
    format_x=format_numbers,
    x_hint="a library pose (squat), walk-cycle, a .npy/.bvh file or 72 axis-angle numbers",
    metrics=(
        Metric("position_error_cm", "Pos.", "cm", "{:.2f}", ("mean", "median"), needs_ground_truth=False),
        Metric("rotation_error_deg", "Rot.", "deg", "{:.2f}", ("mean", "median")),
    ),
    panels=(Panel("skeleton", "target (grey) and estimate, front and side", _skeleton_panel),
            Panel("body", "the default body posed by the estimate", _body_panel)),
    legend=_legend(),
    slice_axes=SLICE_AXES,
    solvers=SOLVERS,
    default_solvers=("adam", "lbfgs", "lm"),
    gradient_options={},
    capabilities=CAPABILITIES,
    commands=(Command("bench", "ik", "every solver on the test split and the CMU clips; Table 5 of the paper and "
                      "supplementary Tables 2-3", add_bench_arguments, bench_ik),
              Command("train", "ik", "train a learned ik solver (stage-wise, resumable)", add_train_arguments,
                      train_ik)),
    draw_observation=_draw_targets,
    prediction_label="joints",
)
