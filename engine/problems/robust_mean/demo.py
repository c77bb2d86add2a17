"""robust-mean's lesson for the app's Learn tab: sigma learned twice from the untrained width, through the
damped (lambda 0.1) and the undamped (lambda 0) derivative, and at every training step the observed problem's
energy under that step's sigma, its minimum, and how each derivative says the minimum moves with log sigma.

The lesson trains faster than `train robust-mean` (momentum 0.99, a larger step) so that it is over in seconds;
its runs show the same contrast: the undamped gradient's spikes where a minimum is flat."""
from __future__ import annotations

import math
import numpy as np
import torch

from ...learn.argmin import ArgminSettings, argmin
from ...learn.energy_training import train_energy
from ..spec import EnergyLesson, LessonFrames
from .problem import RobustMeanConfig, RobustMeanProblem, rbf_energy
from .solvers import energy_minimum

RUNS = {"damped (lambda 0.1)": 0.1, "undamped (lambda 0)": 0.0}
LESSON_TRAINING = {"learning_rate": 3e-6, "momentum": 0.99, "batch_size": 4, "validation_problems": 50}
DAMPED_RGB, UNDAMPED_RGB = (40, 110, 200), (214, 40, 40)
ARROW_STEP = 0.25
"""The arrows show where each derivative predicts the minimum goes when log sigma grows by this."""


def run_lesson(config: RobustMeanConfig, observation: np.ndarray, truth: np.ndarray | None,
               steps: int) -> LessonFrames:
    from .training import RobustMeanTask, RobustMeanTrainConfig

    samples = torch.as_tensor(observation, dtype=torch.float32).reshape(1, -1)
    frames: LessonFrames = {}
    for name, damping in RUNS.items():
        train = RobustMeanTrainConfig(steps=steps, damping=damping, untrained_sigma=config.untrained_sigma, seed=config.draw_seed,
                                      **LESSON_TRAINING)
        run = train_energy(RobustMeanTask(train, config), None, log=lambda message: None, log_every=0)
        frames[name] = [dict(_derivatives(samples, float(record.weights["log_sigma"])), step=record.step,
                             loss=record.loss, gradient_norm=record.gradient_norm) for record in run.history]
    return frames


def _derivatives(samples: torch.Tensor, log_sigma: float) -> dict[str, float]:
    """The observed problem's minimum at this sigma and d t*/d log sigma by both derivatives."""
    if not math.isfinite(log_sigma):
        return {"log_sigma": log_sigma, "estimate": float("nan"), "damped": float("nan"), "undamped": float("nan")}
    weight = torch.tensor(log_sigma)
    minimum = energy_minimum(RobustMeanProblem.of_samples(samples, weight), samples)
    result = {"log_sigma": log_sigma, "estimate": float(minimum[0, 0])}
    for key, damping in (("damped", 0.1), ("undamped", 0.0)):
        w = weight.clone().requires_grad_(True)
        layer = argmin(lambda y, ws: rbf_energy(y, samples, ws[0]), minimum, [w], ArgminSettings(damping=damping))
        (gradient,) = torch.autograd.grad(layer.y.sum(), w)
        result[key] = float(gradient)
    return result


def draw_lesson(frames: LessonFrames, step: int, observation: np.ndarray, truth: np.ndarray | None) -> np.ndarray:
    """Each run's energy at this step, the minimum and both derivatives' arrows side by side, then the runs'
    sigma over the training steps (a cursor at this step)."""
    from .pictures import energy_picture

    span = float(np.abs(observation).max()) + 5
    true_mean = None if truth is None else float(np.asarray(truth).reshape(-1)[0])
    pictures = []
    for name, run in frames.items():
        frame = run[min(step, len(run) - 1)]
        arrows = tuple((ARROW_STEP * frame[key], colour) for key, colour in
                       (("damped", DAMPED_RGB), ("undamped", UNDAMPED_RGB)) if math.isfinite(frame[key]))
        caption = (f"{name}: step {frame['step']}, sigma {math.exp(frame['log_sigma']):.3g}, "
                   f"|dL/dlog sigma| {frame['gradient_norm']:.3g}")
        picture = (energy_picture(observation, frame["log_sigma"], span, frame["estimate"], true_mean, (420, 220),
                                  caption, arrows) if math.isfinite(frame["log_sigma"])
                   else np.full((220, 420, 3), 247, np.uint8))
        pictures.append(_with_footer(picture, f"dt*/dlog sigma: damped {frame['damped']:.3g} (blue), undamped "
                                              f"{frame['undamped']:.3g} (red)"))
    row = np.concatenate(pictures, axis=1)
    return np.concatenate([row, _sigma_strip(frames, step, 300, row.shape[0])], axis=1)


def _with_footer(picture: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (picture.shape[1], picture.shape[0] + 16), (247, 246, 242))
    image.paste(Image.fromarray(picture), (0, 0))
    ImageDraw.Draw(image).text((14, picture.shape[0]), text, fill=(40, 40, 40))
    return np.asarray(image)


def _sigma_strip(frames: LessonFrames, step: int, width: int, height: int) -> np.ndarray:
    """log sigma over the training steps of each run (damped blue, undamped red), a grey cursor at `step`."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (247, 246, 242))
    draw = ImageDraw.Draw(image)
    series = [np.array([frame["log_sigma"] for frame in run], dtype=np.float64) for run in frames.values()]
    finite = np.concatenate([values[np.isfinite(values)] for values in series])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    high = max(high, low + 1e-3)
    count = max(len(values) for values in series)

    def point(k: int, value: float) -> tuple[float, float]:
        return (14 + k / max(count - 1, 1) * (width - 28), height - 12 - (value - low) / (high - low) * (height - 44))

    for values, colour in zip(series, (DAMPED_RGB, UNDAMPED_RGB)):
        points = [point(k, v) for k, v in enumerate(values) if math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
    x = point(min(step, count - 1), low)[0]
    draw.line([(x, 30), (x, height - 8)], fill=(150, 150, 150))
    draw.text((14, 2), f"sigma per training step (log scale,\n{math.exp(low):.3g} to {math.exp(high):.3g})",
              fill=(40, 40, 40))
    return np.asarray(image)


LESSON = EnergyLesson(
    title="Learning sigma through the minimum",
    explanation="Train runs SGD on log sigma twice from the untrained width: with the damped trust-region "
                "derivative dt*/dsigma = -(H + 0.1)^-1 d(dE/dt)/dsigma and with the undamped one (lambda 0). "
                "Scrub the steps: the energy reshapes, its minimum moves, and the arrows show where each "
                "derivative says the minimum goes. Where the minimum is flat (H near 0) the undamped arrow "
                "explodes.",
    run=run_lesson,
    draw=draw_lesson,
)
