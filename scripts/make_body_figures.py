"""Writes the README's body figures: docs/body-rest.png (the default body in rest pose, then betas 1 and 2 at
-2 and +2, at one scale), docs/body-poses.png (library poses, then two random poses within joint limits) and
docs/body-walk.png (six frames of the walk cycle from the side, facing right, the travel along the way removed).

    .venv/bin/python scripts/make_body_figures.py
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

from engine.bodies.model import load_body  # noqa: E402
from engine.bodies.poses import motions, pose_library, sample_poses  # noqa: E402
from engine.bodies.render import render_bodies  # noqa: E402
from engine.camera import Camera  # noqa: E402

POSES = ("a-pose", "arms-down", "arms-up", "stride", "squat", "reach")
WALK_FRAMES = (0, 7, 13, 20, 27, 33)
SIDE_VIEW = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
"""Turns SMPL's forward (+z) to the image's right (+x) for the front-view renderer."""


def main() -> None:
    body = load_body()
    camera = Camera(height=360, width=300, fov_y=math.radians(30.0))
    betas = torch.zeros(5, body.num_betas)
    betas[1, 0], betas[2, 0], betas[3, 1], betas[4, 1] = -2.0, 2.0, -2.0, 2.0
    rest = render_bodies(body(betas=betas).vertices.detach(), body.faces, Camera(height=360, width=360,
                                                                                    fov_y=math.radians(30.0)))
    library = pose_library()
    poses = torch.stack([library[name] for name in POSES] + list(sample_poses(2, seed=1, spread=0.6)))
    vertices = body(pose=poses).vertices.detach()
    posed = torch.cat([render_bodies(v[None], body.faces, camera) for v in vertices])  # each framed on its own
    walk_poses, transl = motions()["walk-cycle"].at(list(WALK_FRAMES))
    transl[:, 2] = 0.0  # keep the height, drop the travel
    walking = (body(pose=walk_poses).vertices.detach() + transl[:, None]) @ SIDE_VIEW.T
    walk = render_bodies(walking, body.faces, Camera(height=360, width=220, fov_y=math.radians(30.0)))
    (REPO / "docs").mkdir(exist_ok=True)
    for name, images in (("body-rest.png", rest), ("body-poses.png", posed), ("body-walk.png", walk)):
        Image.fromarray(np.concatenate(list(images.numpy()), axis=1)).save(REPO / "docs" / name, optimize=True)
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
