"""Writes the README's face figures: docs/face-landmarks.png (the default face from the front and in three-quarter
view with its 68 landmarks) and docs/face-variety.png (the neutral face, identity components 1 to 3 at -2.5 and
+2.5; then from the front: neutral, five facial-action mixes and a head turned by its joint).

    .venv/bin/python scripts/make_face_figures.py
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.faces.model import load_face  # noqa: E402
from engine.faces.show import render_face  # noqa: E402

EXPRESSIONS = ({}, {"jawOpen": 0.7}, {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "cheekSquintLeft": 0.5,
                                      "cheekSquintRight": 0.5}, {"eyeBlinkLeft": 1.0, "browInnerUp": 1.0},
               {"mouthPucker": 1.0, "browDownLeft": 1.0, "browDownRight": 1.0}, {"cheekPuff": 1.0}, {})


def main() -> None:
    face = load_face()
    landmarks = torch.cat([render_face(face, face(), 480, yaw, landmarks=True) for yaw in (0.0, 35.0)])
    identity = torch.zeros(7, face.identity_count)
    for component in range(3):
        identity[1 + 2 * component, component], identity[2 + 2 * component, component] = -2.5, 2.5
    shapes = render_face(face, face(identity), 240, yaw_deg=20.0)
    expression = torch.stack([face.expression_vector(values) for values in EXPRESSIONS])
    rotations = torch.zeros(len(expression), 4, 3)
    rotations[-1, 1] = torch.tensor([math.radians(15.0), math.radians(30.0), 0.0])  # nods, turns to its left
    actions = render_face(face, face(expression=expression, rotations=rotations), 240, yaw_deg=0.0)
    (REPO / "docs").mkdir(exist_ok=True)
    variety = np.concatenate([np.concatenate(list(images.numpy()), axis=1) for images in (shapes, actions)])
    for name, image in (("face-landmarks.png", np.concatenate(list(landmarks.numpy()), axis=1)),
                        ("face-variety.png", variety)):
        Image.fromarray(image).save(REPO / "docs" / name, optimize=True)
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
