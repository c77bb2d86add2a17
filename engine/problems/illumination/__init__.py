"""Illumination estimation (Deep Feedback Inverse Problem Solver, Sec. 5): the problem's spec."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...images import IMAGE_EXTENSIONS, load_colour_image, save_colour_image
from ...meshes import SUPPORTED_EXTENSIONS
from ..spec import Command, InputSpec, Metric, ParameterGroup, ProblemSpec, format_numbers
from .commands import add_bench_arguments, add_train_arguments, bench_illumination, train_illumination
from .meshes import describe_mesh, mesh_arrays, mesh_from_arrays, resolve_lit_mesh
from .pictures import LEGEND, PANELS, as_uint8
from .problem import (
    MAX_IMAGE_SIZE,
    OBSERVATION,
    PARAMETER_NAMES,
    IlluminationConfig,
    IlluminationProblem,
    make_problem,
    parse_light,
)
from .slice import SLICE_AXES
from .solvers import SOLVERS

__all__ = ["SPEC", "IlluminationConfig", "IlluminationProblem"]


def _load_observation(path: str) -> np.ndarray:
    return load_colour_image(path, MAX_IMAGE_SIZE, "feedbacklab render illumination")[None]


def _save_observation(path: str, observation: np.ndarray) -> None:
    if observation.shape[0] != 1:
        raise ValueError(f"{path}: an image holds one observation, not {observation.shape[0]}")
    save_colour_image(path, observation[0])


SPEC = ProblemSpec(
    name="illumination",
    title="Illumination estimation",
    summary="a directional or point light's position from one RGB image of a known object (pyrender, shadows), "
            "paper Sec. 5",
    config=IlluminationConfig,
    inputs=(InputSpec("mesh", "Mesh", "OBJ/PLY/STL/OFF/GLB/GLTF file, or a procedural object such as chair-7 "
                      "(default: the built-in object); normals come from the faces, wound outwards",
                      resolve_lit_mesh, SUPPORTED_EXTENSIONS, describe_mesh, mesh_arrays, mesh_from_arrays,
                      lambda mesh: mesh.name),),
    make=make_problem,
    parameters=(ParameterGroup("light", PARAMETER_NAMES, "m"),),
    tangent_dim=3,
    observation=OBSERVATION,
    load_observation=_load_observation,
    save_observation=_save_observation,
    observation_extensions=IMAGE_EXTENSIONS,
    parse_x=parse_light,
    format_x=format_numbers,
    x_hint="x,y,z (object-centred, camera axes, +z towards the camera)",
    metrics=(
        Metric("image_rmse", "Image RMSE", format="{:.4f}", needs_ground_truth=False),
        Metric("mse", "MSE", "", "{:.4f}", ("mean", "median")),
        Metric("angle_error_deg", "Angle", "deg", "{:.2f}", ("mean", "median")),
        Metric("outlier", "Outliers", aggregates=("percent",)),
    ),
    panels=PANELS,
    legend=LEGEND,
    slice_axes=SLICE_AXES,
    solvers=SOLVERS,
    default_solvers=("nmr", "regression", "feedback"),
    gradient_options={},
    capabilities=frozenset({"differentiable", "train"}),
    commands=(
        Command("bench", "illumination", "solve n sampled light problems; Table 4 and supplementary Tables 2-3",
                add_bench_arguments, bench_illumination),
        Command("train", "illumination", "train a learned solver (stage-wise, resumable)", add_train_arguments,
                train_illumination),
    ),
    draw_observation=as_uint8,
    fit_config=lambda config, observation: replace(config, image_size=int(observation.shape[-2])),
    prediction_label="rendering",
)
