"""6-DoF object pose from a silhouette (Deep Feedback Inverse Problem Solver, Sec. 4): the problem's spec."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ...images import IMAGE_EXTENSIONS, load_silhouette, save_silhouette
from ...meshes import DEFAULT_MAX_FACES, Mesh, check_mesh_arrays
from ...procedural import resolve_mesh
from ..spec import Command, InputSpec, Metric, ParameterGroup, ProblemSpec
from .problem import OBSERVATION, PARAMETER_NAMES, Pose6DConfig, Pose6DProblem, format_pose, identity_poses, parse_pose
from .commands import (
    add_accuracy_arguments,
    add_speed_arguments,
    add_train_arguments,
    bench_accuracy,
    bench_speed,
    train_command,
)
from .first_app import FIRST_APP
from .pictures import LEGEND, PANELS, estimate_image
from .slice import SLICE_AXES
from .solvers import SOLVERS
from .view3d import RENDERED_PANELS

__all__ = ["SPEC", "Pose6DConfig", "Pose6DProblem", "format_pose", "identity_poses", "parse_pose", "PARAMETER_NAMES"]


def _describe_mesh(mesh: Mesh) -> str:
    note = (f"; simplified from {mesh.simplified_from} to {mesh.num_faces} faces (the limit is {DEFAULT_MAX_FACES})"
            if mesh.simplified_from is not None else "")
    return f"mesh {mesh.name}: {mesh.num_vertices} vertices, {mesh.num_faces} faces{note}"


def _mesh_arrays(mesh: Mesh) -> dict[str, np.ndarray]:
    return {"vertices": mesh.vertices.numpy(), "faces": mesh.faces.numpy()}


def _mesh_from_arrays(name: str, arrays: dict[str, np.ndarray]) -> Mesh:
    """A mesh the app already holds (normalised vertices and faces): restores a session or a restarted engine."""
    vertices, faces = (np.asarray(arrays.get(key, np.zeros((0, 3)))) for key in ("vertices", "faces"))
    check_mesh_arrays(vertices, faces, name)
    return Mesh(torch.as_tensor(vertices, dtype=torch.float32), torch.as_tensor(faces, dtype=torch.int64), name,
                np.eye(4))


def _make(config: Pose6DConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> Pose6DProblem:
    mesh = inputs.get("mesh") or resolve_mesh(None)
    return Pose6DProblem.for_meshes(mesh, batch_size or 1, config, device)


def _load_observation(path: str) -> np.ndarray:
    return load_silhouette(path, OBSERVATION.max_size)[None]


def _save_observation(path: str, observation: np.ndarray) -> None:
    if observation.shape[0] != 1:
        raise ValueError(f"{path}: a silhouette image holds one observation, not {observation.shape[0]}")
    save_silhouette(path, observation[0])


def _check_observation(observation: np.ndarray) -> None:
    empty = ~observation.reshape(len(observation), -1).any(axis=1)
    if empty.any():
        raise ValueError("that pose puts the object outside the image; choose a smaller offset")


SPEC = ProblemSpec(
    name="pose6d",
    title="6-DoF object pose from a silhouette",
    summary="rotation and translation of a known mesh from its binary silhouette (pyrender), paper Sec. 4",
    config=Pose6DConfig,
    inputs=(InputSpec("mesh", "Mesh", "OBJ/PLY/STL/OFF/GLB/GLTF file, or a procedural object such as chair-7 "
                      "(default: the built-in object)", resolve_mesh,
                      (".obj", ".ply", ".stl", ".off", ".glb", ".gltf"), _describe_mesh, _mesh_arrays,
                      _mesh_from_arrays, lambda mesh: mesh.name),),
    make=_make,
    parameters=(ParameterGroup("rotation", PARAMETER_NAMES[:4], "", "quaternion"),
                ParameterGroup("translation", PARAMETER_NAMES[4:], "m")),
    tangent_dim=7,
    observation=OBSERVATION,
    load_observation=_load_observation,
    save_observation=_save_observation,
    observation_extensions=IMAGE_EXTENSIONS,
    parse_x=lambda text, config=None: parse_pose(text),
    format_x=lambda x: format_pose(torch.as_tensor(x)),
    x_hint="qw,qx,qy,qz,tx,ty,tz",
    metrics=(
        Metric("iou", "IoU", format="{:.3f}", needs_ground_truth=False, lower_is_better=False),
        Metric("translation_error", "Trans.", "m", "{:.3f}", ("mean", "median")),
        Metric("rotation_error_deg", "Rot.", "deg", "{:.2f}", ("mean", "median")),
        Metric("outlier", "Outliers", aggregates=("percent",)),
    ),
    panels=PANELS,
    rendered_panels=RENDERED_PANELS,
    legend=LEGEND,
    slice_axes=SLICE_AXES,
    solvers=SOLVERS,
    default_solvers=("nmr", "softras"),
    gradient_options={"rasterizer": "softras", "sigma": 1e-3},
    capabilities=frozenset({"differentiable", "train"}),
    commands=(
        Command("bench", "pose6d", "solve n sampled pose problems; Tables 1-3 of the paper", add_accuracy_arguments,
                bench_accuracy),
        Command("bench", "speed", "ms per optimizer step vs faces and image size; pyrender ms", add_speed_arguments,
                bench_speed),
        Command("train", "pose6d", "train a learned solver (stage-wise, resumable)", add_train_arguments,
                train_command),
    ),
    check_observation=_check_observation,
    draw_observation=estimate_image,
    fit_config=lambda config, observation: replace(config, image_size=int(observation.shape[-1])),
    first_app=FIRST_APP,
    prediction_label="rendering",
)
