"""3D human pose from 2D joints, monocular or with four calibrated cameras (Wibergian learning, Sec. 5, Table 2;
Tome et al.'s model): the spec."""
from __future__ import annotations

from typing import Any

import numpy as np

from ...npfiles import save_npy
from ..spec import Command, Legend, Metric, Panel, ParameterGroup, ProblemSpec, config_from_dict
from .commands import add_bench_arguments, add_train_arguments, bench, train
from .files import EXTENSIONS, fit_config, format_x, load_observation, parse_x
from .problem import OBSERVATION, PARAMETER_NAMES, Pose2DConfig, PoseFrom2DProblem, make_problem
from .skeleton import JOINT_NAMES
from .slice import SLICE_AXES
from .solvers import CAPABILITIES, SOLVERS

__all__ = ["SPEC", "Pose2DConfig", "PoseFrom2DProblem"]


def _make(config: Pose2DConfig, inputs: dict, device="cpu", batch_size: int | None = None) -> PoseFrom2DProblem:
    return make_problem(config, batch_size or 1, device)


def _camera_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                  truth: np.ndarray | None) -> np.ndarray:
    from .pictures import camera_view

    return camera_view(observation, x, truth)


def _skeleton_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                    truth: np.ndarray | None) -> np.ndarray:
    from .pictures import skeleton_panel

    return skeleton_panel(x, truth)


def _yaw_energy_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None,
                      config: dict[str, Any]) -> np.ndarray:
    from .model import energy_weights
    from .pictures import yaw_energy_view

    settings = config_from_dict(Pose2DConfig, config)
    energies = {"untrained": energy_weights("untrained", settings.cameras)}
    if settings.energy != "untrained":
        energies["learned"] = energy_weights(settings.energy, settings.cameras)
    return yaw_energy_view(observation, x, truth, settings.noise_px, energies)


def _draw_detections(observation: np.ndarray) -> np.ndarray:
    from .pictures import camera_view

    return camera_view(observation, None, None)


def _legend() -> Legend:
    from ..ik.pictures import TARGET_RGB, error_legend

    return Legend("grey: detections and truth; estimated joints by 3D error: ",
                  (("detected", TARGET_RGB), *error_legend()))


SPEC = ProblemSpec(
    name="pose-from-2d",
    title="3D human pose from 2D joints",
    summary="a 17-joint pose, facing and position from detected 2D joints in 1 or 4 calibrated cameras (Tome et "
            "al.'s energy, learned through its minima), paper Sec. 5",
    config=Pose2DConfig,
    inputs=(),
    make=_make,
    parameters=(ParameterGroup("yaw", PARAMETER_NAMES[:1], "rad"), ParameterGroup("root", PARAMETER_NAMES[1:4], "m"),
                *(ParameterGroup(joint, PARAMETER_NAMES[1 + 3 * j:4 + 3 * j], "m")
                  for j, joint in enumerate(JOINT_NAMES[1:], start=1))),
    tangent_dim=len(PARAMETER_NAMES),
    observation=OBSERVATION,
    load_observation=load_observation,
    save_observation=save_npy,
    observation_extensions=EXTENSIONS,
    parse_x=parse_x,
    format_x=format_x,
    x_hint="a library pose (squat), walk-cycle, a .npy/.bvh file or 52 numbers: yaw, root (3), pose (48)",
    metrics=(
        Metric("mpjpe_mm", "MPJPE", "mm", "{:.1f}", ("mean", "median")),
        Metric("reprojection_px", "Reproj.", "px", "{:.2f}", ("mean",), needs_ground_truth=False),
    ),
    panels=(Panel("camera", "camera 1: detections (grey) and the estimate's joints", _camera_panel),
            Panel("skeleton", "the estimate against the truth (grey), front and side", _skeleton_panel),
            Panel("energy", "the energy over the yaw before and after training (Fig. 3): estimate (orange), truth "
                  "(green)", _yaw_energy_panel, uses_config=True)),
    legend=_legend(),
    slice_axes=SLICE_AXES,
    solvers=SOLVERS,
    default_solvers=("search", "search+lm", "lm"),
    gradient_options={},
    capabilities=CAPABILITIES,
    commands=(Command("bench", "pose-from-2d", "Table 2's shape: MPJPE by motion category, untrained and learned "
                      "energies, monocular and four cameras", add_bench_arguments, bench),
              Command("train", "pose-from-2d", "learn the energy's weights through its minima (Wibergian learning)",
                      add_train_arguments, train)),
    fit_config=fit_config,
    draw_observation=_draw_detections,
    prediction_label="detections",
)
