"""Tracker fusion (Wibergian learning, Sec. 4, Table 1, Fig. 3) on 72 simulated trackers: the spec."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...npfiles import save_npy
from ..spec import Command, Legend, Panel, ParameterGroup, ProblemSpec, config_from_dict
from .commands import add_bench_arguments, add_train_arguments, bench_tracker_fusion, train_tracker_fusion
from .energy import PROBLEM
from .files import OBSERVATION_EXTENSIONS, format_box, load_observation, parse_box
from .problem import METRICS, OBSERVATION, PARAMETER_NAMES, TrackerFusionConfig, TrackerFusionProblem, make_problem
from .slice import SLICE_AXES
from .solvers import CAPABILITIES, SOLVERS

__all__ = ["SPEC", "TrackerFusionConfig", "TrackerFusionProblem"]


def _make(config: TrackerFusionConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> TrackerFusionProblem:
    return make_problem(config, device, batch_size)


def _boxes_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                 truth: np.ndarray | None) -> np.ndarray:
    from .pictures import boxes_picture

    return boxes_picture(observation, x, truth)


def _energy_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None,
                  config: dict[str, Any]) -> np.ndarray:
    from .pictures import energy_picture

    settings = config_from_dict(TrackerFusionConfig, config)
    shown = energy_picture(observation, x, truth, settings.energy, settings.partition)
    if settings.energy == "untrained":
        return shown
    return np.concatenate([energy_picture(observation, x, truth, "untrained", settings.partition), shown], axis=1)


def _draw_observation(observation: np.ndarray) -> np.ndarray:
    from .pictures import boxes_picture

    return boxes_picture(observation, None, None)


def _legend() -> Legend:
    from .pictures import ESTIMATE_RGB, TRACKER_RGB, TRUTH_RGB

    return Legend("boxes and corners: ", (("72 trackers", TRACKER_RGB), ("truth", TRUTH_RGB),
                                          ("estimate", ESTIMATE_RGB)))


SPEC = ProblemSpec(
    name=PROBLEM,
    title="Tracker fusion",
    summary="one box from the boxes of 72 simulated trackers by a learned robust energy (Wibergian learning, "
            "paper Sec. 4)",
    config=TrackerFusionConfig,
    inputs=(),
    make=_make,
    parameters=(ParameterGroup("top-left", PARAMETER_NAMES[:2], "px"),
                ParameterGroup("bottom-right", PARAMETER_NAMES[2:], "px")),
    tangent_dim=4,
    observation=OBSERVATION,
    load_observation=load_observation,
    save_observation=save_npy,
    observation_extensions=OBSERVATION_EXTENSIONS,
    parse_x=parse_box,
    format_x=format_box,
    x_hint="x1,y1,x2,y2 (pixels)",
    metrics=METRICS,
    panels=(Panel("boxes", "72 tracker boxes (blue), truth (red), estimate (yellow)", _boxes_panel),
            Panel("energy", "the top-left corner's energy before and after training (Fig. 3): truth (red), "
                  "estimate (yellow)",
                  _energy_panel, uses_config=True)),
    legend=_legend(),
    slice_axes=SLICE_AXES,
    solvers=SOLVERS,
    default_solvers=("median", "best-tracker", "rbf+lbfgs"),
    capabilities=CAPABILITIES,
    commands=(Command("bench", PROBLEM, "Table 1 of the paper on the simulated trackers: both partitions",
                      add_bench_arguments, bench_tracker_fusion),
              Command("train", PROBLEM, "learn the fusion energy's weights through its minima (argmin layer)",
                      add_train_arguments, train_tracker_fusion)),
    gradient_options={},
    draw_observation=_draw_observation,
    prediction_label="tracker boxes",
)
