"""A face model fitted to 2D landmarks seen by a calibrated camera (learning-to-fit, Sec. 3.3, Table 7): the
spec, read from the shipped face model (its expressions, identity coefficients and landmarks)."""
from __future__ import annotations

from typing import Any

import torch

from ...learn.fitter_commands import train_command
from ..point_files import EXTENSIONS
from ..spec import Command, Metric, Panel, ProblemSpec, RenderedPanel, format_numbers
from . import files
from .commands import add_bench_arguments, bench_face_landmarks, training
from .pictures import draw_landmarks, error_legend, landmarks_panel, render_face
from .problem import (
    FaceLandmarksConfig, FaceLandmarksProblem, default_face, make_problem, observation_spec, parameter_groups,
)
from .slice import slice_axes
from .solvers import CAPABILITIES, TRAINED, shipped, solver_entries

__all__ = ["SPEC", "FaceLandmarksConfig", "FaceLandmarksProblem"]
NAME = "face-landmarks"
FACE = default_face(torch.device("cpu"))
PARAMETERS = parameter_groups(FACE)
FILES = files.landmark_files(FACE)


def _make(config: FaceLandmarksConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> FaceLandmarksProblem:
    return make_problem(config, batch_size or 1, device)


def _parse_x(text: str, config: Any = None) -> torch.Tensor:
    return files.parse_x(text, FACE)


SPEC = ProblemSpec(
    name=NAME,
    title="Face model fitted to 2D landmarks",
    summary="translation, neck, head and eye rotations, expression and identity of a face model from its 2D "
            "landmarks seen by a calibrated camera (learning-to-fit Sec. 3.3, Table 7)",
    config=FaceLandmarksConfig,
    inputs=(),
    make=_make,
    parameters=PARAMETERS,
    tangent_dim=sum(len(group.labels) for group in PARAMETERS),
    observation=observation_spec(len(FACE.landmark_names)),
    load_observation=FILES.load,
    save_observation=FILES.save,
    observation_extensions=EXTENSIONS,
    parse_x=_parse_x,
    format_x=format_numbers,
    x_hint=files.x_hint(FACE),
    metrics=(
        Metric("reprojection_px", "Reproj.", "px", "{:.2f}", ("mean", "median"), needs_ground_truth=False),
        Metric("v2v_face_mm", "V2V face", "mm", "{:.1f}"),
        Metric("pa_v2v_face_mm", "PA-V2V face", "mm", "{:.1f}"),
        Metric("v2v_head_mm", "V2V head", "mm", "{:.1f}"),
        Metric("pa_v2v_head_mm", "PA-V2V head", "mm", "{:.1f}"),
        Metric("landmark_mm", "LdmkErr", "mm", "{:.1f}"),
        Metric("pa_landmark_mm", "PA-LdmkErr", "mm", "{:.1f}"),
    ),
    panels=(Panel("landmarks", "observed (grey) and fitted landmarks", landmarks_panel, uses_config=True),),
    rendered_panels=(RenderedPanel("face", "fitted face from the camera with its landmarks, and from the side, by "
                                   "vertex error", render_face),),
    legend=error_legend(),
    slice_axes=slice_axes(FACE),
    solvers=solver_entries(NAME, PARAMETERS),
    default_solvers=("lm", "lbfgs") + (("lf",) if "lf" in shipped(NAME) else ()),
    capabilities=CAPABILITIES,
    gradient_options={},
    commands=(Command("bench", NAME, "the optimizers and the learned fitters on the same synthetic faces: the "
                      "learning-to-fit paper's Table 7 and the time per iteration", add_bench_arguments,
                      bench_face_landmarks),
              train_command(NAME, TRAINED, "train a learned fitter (lf or lgd; resumable)", training)),
    draw_observation=draw_landmarks,
    prediction_label="landmarks",
)
