"""SMPL+H fitted to the signals of an AR/VR headset and hand tracking (learning-to-fit, Sec. 3.2, Table 2): the
spec."""
from __future__ import annotations

from typing import Any

import torch

from ...learn.fitter_commands import train_command
from ..body_shared import body_input, error_legend
from ..spec import Command, Metric, Panel, ParameterGroup, ProblemSpec, RenderedPanel, format_numbers
from . import files
from .commands import add_bench_arguments, bench_body_hmd, training
from .pictures import draw_observation, render_body, signals_panel
from .problem import MODEL_TYPE, NUM_JOINTS, OBSERVATION, PARAMETER_NAMES, BodyHmdConfig, BodyHmdProblem, make_problem
from .slice import SLICE_AXES
from .solvers import ABLATIONS, CAPABILITIES, solver_entries

__all__ = ["SPEC", "BodyHmdConfig", "BodyHmdProblem"]
NAME = "body-hmd"


def _make(config: BodyHmdConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> BodyHmdProblem:
    return make_problem(config, batch_size or 1, device, inputs.get("body"))


PARAMETERS = tuple(ParameterGroup(PARAMETER_NAMES[3 * j].split(".")[0], PARAMETER_NAMES[3 * j:3 * j + 3], "rad",
                                  "rotation-vector") for j in range(NUM_JOINTS)) + (
    ParameterGroup("translation", PARAMETER_NAMES[-3:], "m"),)

SPEC = ProblemSpec(
    name=NAME,
    title="SMPL+H body fitted to headset and hand tracking",
    summary="body and finger pose of SMPL+H from a headset's pose, the wrists' poses and the fingertips, hands "
            "tracked fully or only in front of the headset (learning-to-fit Sec. 3.2, Table 2)",
    config=BodyHmdConfig,
    inputs=(body_input(NAME, MODEL_TYPE, "a body with hands (SMPL-H)"),),
    make=_make,
    parameters=PARAMETERS,
    tangent_dim=len(PARAMETER_NAMES),
    observation=OBSERVATION,
    load_observation=files.load_observation,
    save_observation=files.save_observation,
    observation_extensions=files.EXTENSIONS,
    parse_x=files.parse_x,
    format_x=format_numbers,
    x_hint="a library pose (squat), walk-cycle, a .npy/.bvh file or 159 numbers (root and body 66, hands 90, "
           "translation 3)",
    metrics=(
        Metric("signals_mm", "Signals", "mm", "{:.1f}", needs_ground_truth=False),
        Metric("v2v_mm", "V2V FB", "mm", "{:.1f}"),
        Metric("v2v_head_mm", "V2V H", "mm", "{:.1f}"),
        Metric("v2v_left_hand_mm", "V2V L", "mm", "{:.1f}"),
        Metric("v2v_right_hand_mm", "V2V R", "mm", "{:.1f}"),
        Metric("joint_error_mm", "JntErr", "mm", "{:.1f}"),
        Metric("penetration_mm", "GrPe.", "mm", "{:.1f}", needs_ground_truth=False),
    ),
    panels=(Panel("signals", "headset, wrists and fingertips: tracked (grey) and fitted (blue)", signals_panel),),
    rendered_panels=(RenderedPanel("body", "fitted body, front and side, by vertex error", render_body),),
    legend=error_legend(),
    slice_axes=SLICE_AXES,
    solvers=solver_entries(NAME, PARAMETERS),
    default_solvers=("lbfgs-prior", "lf"),
    capabilities=CAPABILITIES,
    gradient_options={},
    commands=(Command("bench", NAME, "the learning-to-fit paper's Table 2 (full and half-space visibility), the "
                      "ablations' table and Fig. 4", add_bench_arguments, bench_body_hmd),
              train_command(NAME, ("lf",) + ABLATIONS, "train a learned fitter (lf or an ablation; resumable)",
                            training)),
    draw_observation=draw_observation,
    prediction_label="signals",
)
