"""face-landmarks' files and typed values.

Landmark files (observations), each item the face model's L landmarks (its landmark_names' order, iBUG's 68 for
the shipped face) as (u, v) pixels, u right and v down from the image's top-left corner: .npy (N, L, 2) or (L, 2),
.npz ("landmarks") or .json ({"landmarks": ..., optional "landmark_names"}), as engine.problems.point_files reads
them. A (2, L) array or a flat one is refused with the layout to give.

Estimates typed by the user: 'neutral' (the mean face at rest, problem.neutral), expression activations on it as
ARKit names with values in [0, 1] ('jawOpen=0.6,mouthSmileLeft=0.4'), or D comma-separated numbers (translation,
rotations, expression, identity).
"""
from __future__ import annotations

import torch

from ...faces.model import FaceModel
from ..point_files import PointFiles
from ..spec import parse_numbers
from .problem import layout, neutral, observation_spec


def landmark_files(model: FaceModel) -> PointFiles:
    """The landmark files of a face model's landmarks."""
    count = len(model.landmark_names)
    return PointFiles("face-landmarks", "landmark", tuple(model.landmark_names), 2,
                      f"(N, {count}, 2): u, v in pixels (u right, v down from the image's top-left corner)",
                      observation_spec(count))


def x_hint(model: FaceModel) -> str:
    return (f"neutral, expressions on it (jawOpen=0.6,mouthSmileLeft=0.4) or {layout(model).dimension} numbers "
            "(translation, rotations, expression, identity)")


def parse_x(text: str, model: FaceModel) -> torch.Tensor:
    """(1, D) from the text (module docstring); ValueError (one line) for unknown expression names, activations
    outside [0, 1] or the wrong count of numbers."""
    text = text.strip()
    x = neutral(model).cpu().float()
    if text == "neutral":
        return x
    if "=" not in text:
        return parse_numbers(text, layout(model).dimension, "face-landmarks estimate", x_hint(model))
    values = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"face-landmarks estimate {text[:40]!r}: {part.strip()!r} is not name=number; give "
                             f"{x_hint(model)}") from None
    outside = [name for name, value in values.items() if not 0.0 <= value <= 1.0]
    if outside:
        raise ValueError(f"face-landmarks estimate {text[:40]!r}: expression activations are within [0, 1], not "
                         f"{', '.join(f'{name}={values[name]:g}' for name in outside)}")
    x[0, layout(model).expression] = model.expression_vector(values).cpu().float()
    return x
