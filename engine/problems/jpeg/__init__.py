"""JPEG deblocking (the deep feedback supplementary, Sec. 3): the spec."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..spec import Command, InputSpec, Panel, ParameterGroup, ProblemSpec
from .commands import add_bench_arguments, bench_jpeg
from .files import (
    ESTIMATE_EXTENSIONS, OBSERVATION_EXTENSIONS, describe_image, format_image, image_arrays, image_from_arrays,
    image_name, load_image_input, parse_image_text, refuse_observation_file, save_estimate, save_observation,
)
from .images import EXTENSIONS
from .problem import METRICS, NAME, OBSERVATION, JpegConfig, JpegProblem, make_problem
from .slice import SLICE_AXES
from .solvers import CAPABILITIES, SOLVERS
from .train_command import add_train_arguments, train_jpeg

__all__ = ["SPEC", "JpegConfig", "JpegProblem"]


def _make(config: JpegConfig, inputs: dict[str, Any], device: torch.device | str = "cpu",
          batch_size: int | None = None) -> JpegProblem:
    return make_problem(config, inputs.get("image"), device, batch_size)


def _estimate_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                    truth: np.ndarray | None) -> np.ndarray:
    from .pictures import image_picture

    return image_picture(x.reshape(observation.shape))


def _jpeg_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                truth: np.ndarray | None) -> np.ndarray:
    from .pictures import image_picture

    return image_picture(prediction)


def _difference_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray,
                      truth: np.ndarray | None) -> np.ndarray:
    from .pictures import difference_picture

    return difference_picture(x.reshape(observation.shape), observation)


def _zoom_panel(observation: np.ndarray, prediction: np.ndarray, x: np.ndarray, truth: np.ndarray | None,
                focus: tuple[float, float]) -> np.ndarray:
    from .pictures import zoom_picture

    images = [x.reshape(observation.shape), observation]
    if truth is not None:
        images.append(truth.reshape(observation.shape))
    return zoom_picture(images, focus)


def _draw_observation(observation: np.ndarray) -> np.ndarray:
    from .pictures import image_picture

    return image_picture(observation)


def _check_observation(observation: np.ndarray) -> None:
    if observation.shape[1] not in (1, 3):
        raise ValueError(f"a JPEG has 1 (grey) or 3 (RGB) channels, not {observation.shape[1]}")


SPEC = ProblemSpec(
    name=NAME,
    title="JPEG deblocking",
    summary="a clean image from its JPEG, whose encoder has no gradient (deep feedback supplementary, Sec. 3)",
    config=JpegConfig,
    inputs=(InputSpec("image", "Image", f"a clean image to compress, or a JPEG to restore ({', '.join(EXTENSIONS)}; "
                      "default: the built-in procedural scene)", load_image_input, EXTENSIONS, describe_image,
                      image_arrays, image_from_arrays, image_name),),
    make=_make,
    parameters=(ParameterGroup("image", (), "", kind="image"),),
    tangent_dim=0,
    observation=OBSERVATION,
    load_observation=refuse_observation_file,
    save_observation=save_observation,
    observation_extensions=OBSERVATION_EXTENSIONS,
    parse_x=parse_image_text,
    format_x=format_image,
    x_hint="an image (open it as --image)",
    metrics=METRICS,
    panels=(Panel("estimate", "estimate x_t", _estimate_panel),
            Panel("zoom", "zoom at cursor: x_t | y | clean", _zoom_panel, follows_cursor=True),
            Panel("difference", "x_t - y, x8 (red: brighter)", _difference_panel),
            Panel("jpeg", "its JPEG f(x_t)", _jpeg_panel)),
    legend=None,
    slice_axes=SLICE_AXES,
    solvers=SOLVERS,
    default_solvers=("jpeg", "tv", "dncnn", "feedback"),
    capabilities=CAPABILITIES,
    commands=(Command("bench", NAME, "the supplementary's JPEG table: PSNR / SSIM per quality of every restorer",
                      add_bench_arguments, bench_jpeg),
              Command("train", NAME, "train the feedback restorer or DnCNN on a folder of clean images",
                      add_train_arguments, train_jpeg)),
    check_observation=_check_observation,
    draw_observation=_draw_observation,
    prediction_label="JPEG of the estimate",
    save_estimate=save_estimate,
    estimate_extensions=ESTIMATE_EXTENSIONS,
)
