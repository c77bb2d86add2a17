"""Robust mean (Wibergian learning, Sec. 3, Fig. 2): the spec."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ...learn.energy_weights import energy_choice
from ...npfiles import load_npy_observation, save_npy
from ..spec import (
    Command, Legend, Metric, Panel, ParameterGroup, ProblemSpec, SliceAxis, config_from_dict, format_numbers,
)
from .commands import (
    add_argmin_arguments, add_bench_arguments, add_train_arguments, bench_argmin, bench_robust_mean, train_robust_mean,
)
from .demo import LESSON
from .problem import OBSERVATION, RobustMeanConfig, RobustMeanProblem
from .solvers import CAPABILITIES, SOLVERS

__all__ = ["SPEC", "RobustMeanConfig", "RobustMeanProblem", "log_sigma_of"]
OBSERVATION_EXTENSIONS = (".npy",)


def log_sigma_of(config: RobustMeanConfig) -> torch.Tensor:
    """() log of the RBF width the config's energy setting names."""
    untrained = {"log_sigma": torch.tensor(math.log(config.untrained_sigma))}
    return energy_choice("robust-mean", config.energy, untrained)["log_sigma"]


def _make(config: RobustMeanConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> RobustMeanProblem:
    return RobustMeanProblem.draw(config, batch_size or 1, log_sigma_of(config), device)


def _load_observation(path: str) -> np.ndarray:
    return load_npy_observation(path, "robust-mean", lambda shape: len(shape) == 2 and shape[1] >= 1, "samples",
                                "(N,) or (B, N)", OBSERVATION.check_limits, 1)


def _parse_x(text: str, config: Any = None) -> torch.Tensor:
    """One number t, or comma-separated numbers (a batch of estimates)."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or not np.isfinite(values).all():
        raise ValueError(f"robust-mean estimate {text[:40]!r}: give a finite number t (or comma-separated numbers "
                         "for a batch)")
    return torch.tensor(values, dtype=torch.float32)[:, None]


def _energy_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None,
                  config: dict[str, Any]) -> np.ndarray:
    from .pictures import energy_picture

    settings = config_from_dict(RobustMeanConfig, config)
    return energy_picture(observation, float(log_sigma_of(settings)), settings.range + 5, float(x[0]),
                          None if truth is None else float(truth[0]))


def _draw_samples(observation: np.ndarray) -> np.ndarray:
    from .pictures import energy_picture

    return energy_picture(observation, math.log(RobustMeanConfig.untrained_sigma), float(np.abs(observation).max()) + 5,
                          None, None, caption="the samples (untrained energy)")


def _slice_move(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    return x + offsets[:, None].to(x)


SPEC = ProblemSpec(
    name="robust-mean",
    title="Robust mean by a learned RBF energy",
    summary="the mean of 10 inliers among 100 outliers as the minimum of a sum of RBFs whose width is learned "
            "through the minimum (Wibergian learning, Fig. 2)",
    config=RobustMeanConfig,
    inputs=(),
    make=_make,
    parameters=(ParameterGroup("estimate", ("t",), ""),),
    tangent_dim=1,
    observation=OBSERVATION,
    load_observation=_load_observation,
    save_observation=save_npy,
    observation_extensions=OBSERVATION_EXTENSIONS,
    parse_x=_parse_x,
    format_x=format_numbers,
    x_hint="a number t",
    metrics=(
        Metric("squared_error", "Sq. error", "", "{:.2f}", ("mean", "median")),
        Metric("missed", "Missed", aggregates=("percent",)),
        Metric("gradient", "|dE/dt|", "", "{:.2g}", needs_ground_truth=False),
    ),
    panels=(Panel("energy", "E(t; sigma): samples, minima (red), truth (green), estimate (orange)", _energy_panel,
                  uses_config=True),),
    legend=Legend("", (("energy", (60, 90, 160)), ("local minima", (200, 40, 40)), ("true mean", (46, 160, 67)),
                       ("estimate", (230, 120, 20)))),
    slice_axes=(SliceAxis("t", "the estimate t", "", 20.0, _slice_move,
                          lambda path, center: path[:, 0] - center[0]),),
    solvers=SOLVERS,
    default_solvers=("mean", "median", "candidates+newton"),
    gradient_options={},
    capabilities=CAPABILITIES,
    commands=(Command("bench", "robust-mean", "learning sigma with the damped and the undamped derivative over "
                      "seeds: final error and divergences (Fig. 2)", add_bench_arguments, bench_robust_mean),
              Command("train", "robust-mean", "learn sigma through the minimum (SGD, momentum 0.999)",
                      add_train_arguments, train_robust_mean),
              Command("bench", "argmin", "the argmin layer's backward against its finishing Newton step (robust-mean "
                      "and synthetic energies, full Hessians and Hessian-vector products)", add_argmin_arguments,
                      bench_argmin)),
    draw_observation=_draw_samples,
    prediction_label="samples",
    lesson=LESSON,
)
