"""SMPL fitted to 2D keypoints (learning-to-fit, Sec. 3.2, Table 1): the spec."""
from __future__ import annotations

from typing import Any

import torch

from ...learn.fitter_commands import train_command
from ...learn.fitter_training import FITTER_KINDS
from ..body_shared import body_input, error_legend
from ..spec import Command, Metric, Panel, ParameterGroup, ProblemSpec, RenderedPanel, format_numbers
from . import files
from .commands import add_bench_arguments, bench_body_keypoints, training
from .pictures import draw_keypoints, keypoints_panel, render_body
from .problem import MODEL_TYPE, NUM_BETAS, OBSERVATION, PARAMETER_NAMES, BodyKeypointsConfig, BodyKeypointsProblem, make_problem
from .slice import SLICE_AXES
from .solvers import CAPABILITIES, solver_entries

__all__ = ["SPEC", "BodyKeypointsConfig", "BodyKeypointsProblem"]
NAME = "body-keypoints"


def _make(config: BodyKeypointsConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> BodyKeypointsProblem:
    return make_problem(config, batch_size or 1, device, inputs.get("body"))


PARAMETERS = tuple(ParameterGroup(PARAMETER_NAMES[3 * j].split(".")[0], PARAMETER_NAMES[3 * j:3 * j + 3], "rad",
                                  "rotation-vector") for j in range(24)) + (
    ParameterGroup("shape", PARAMETER_NAMES[72:72 + NUM_BETAS], ""),
    ParameterGroup("camera", PARAMETER_NAMES[-3:], "crop units"))

SPEC = ProblemSpec(
    name=NAME,
    title="SMPL body fitted to 2D keypoints",
    summary="pose, shape and weak-perspective camera of SMPL from 35 detected 2D keypoints (learning-to-fit Sec. "
            "3.2, Table 1)",
    config=BodyKeypointsConfig,
    inputs=(body_input(NAME, MODEL_TYPE, "a SMPL body (24 joints)"),),
    make=_make,
    parameters=PARAMETERS,
    tangent_dim=len(PARAMETER_NAMES),
    observation=OBSERVATION,
    load_observation=files.load_observation,
    save_observation=files.save_observation,
    observation_extensions=files.EXTENSIONS,
    parse_x=files.parse_x,
    format_x=format_numbers,
    x_hint="a library pose (squat), walk-cycle, a .npy/.bvh file or 85 numbers (pose, betas, camera)",
    metrics=(
        Metric("reprojection_px", "Reproj.", "px", "{:.2f}", ("mean", "median"), needs_ground_truth=False),
        Metric("mpjpe_mm", "MPJPE", "mm", "{:.1f}", ("mean", "median")),
        Metric("pa_mpjpe_mm", "PA-MPJPE", "mm", "{:.1f}", ("mean", "median")),
        Metric("v2v_mm", "V2V", "mm", "{:.1f}"),
    ),
    panels=(Panel("keypoints", "detected (grey) and fitted keypoints", keypoints_panel),),
    rendered_panels=(RenderedPanel("body", "fitted body, front and side, by vertex error", render_body),),
    legend=error_legend(),
    slice_axes=SLICE_AXES,
    solvers=solver_entries(NAME, PARAMETERS),
    default_solvers=("lm", "lbfgs", "lf"),
    capabilities=CAPABILITIES,
    gradient_options={},
    commands=(Command("bench", NAME, "every solver on the same test problems: the learning-to-fit paper's Table 1 "
                      "and Fig. 4", add_bench_arguments, bench_body_keypoints),
              train_command(NAME, tuple(FITTER_KINDS), "train a learned fitter (lf, lgd, lgd-eq1 or an ablation; "
                            "resumable)", training)),
    draw_observation=draw_keypoints,
    prediction_label="keypoints",
)
