"""`feedbacklab face show`: a shaded picture of the face model at an identity, an expression and joint rotations,
from the front or turned (a three-quarter view by default), with its landmarks if asked for."""
from __future__ import annotations

import argparse
import math
import time

import torch

from ..bounds import Bound
from ..outputs import atomic_path
from .model import JOINT_NAMES, FaceModel, FaceOutput, load_face

IDENTITY = Bound(-5.0, 5.0)
"""Identity coefficients are in standard deviations of the heads the model was made from; beyond +-5 a head is
no longer human-like."""
ACTIVATION = Bound(0.0, 1.0)
"""Facial actions are activations from none (0) to full (1)."""
ANGLE_DEG = Bound(-180.0, 180.0)
"""Each component of a joint rotation (axis-angle) and the view's turn, in degrees."""
FIELD_OF_VIEW_DEG = 20.0
LANDMARK_RADIUS = 0.0015
"""Metres: a landmark's ball is 3 mm wide."""


def _numbers(text: str, flag: str, example: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected comma-separated numbers such as {example}") from None


def identity_vector(text: str | None, face: FaceModel) -> torch.Tensor:
    """(1, I) from '--identity v1,v2,...': the first coefficients, the rest zero."""
    values = IDENTITY.check("--identity", _numbers(text, "--identity", "1.5,-0.5")) if text else ()
    if len(values) > face.identity_count:
        raise ValueError(f"--identity has {len(values)} values but {face.name} has {face.identity_count} identity "
                         "components")
    vector = torch.zeros(1, face.identity_count)
    vector[0, : len(values)] = torch.tensor(values)
    return vector


def expression_vector(text: str | None, face: FaceModel) -> torch.Tensor:
    """(1, E) from '--expression jawOpen=0.6,eyeBlinkLeft=1'."""
    values: dict[str, float] = {}
    for pair in text.split(",") if text else ():
        name, sign, value = pair.partition("=")
        if not sign:
            raise ValueError(f"--expression {text!r}: expected NAME=VALUE pairs such as jawOpen=0.6,eyeBlinkLeft=1")
        values[name.strip()] = ACTIVATION.check(f"--expression {name.strip()}",
                                                _numbers(value, "--expression", "jawOpen=0.6")[0])
    try:
        return face.expression_vector(values)[None].float()
    except ValueError as error:
        raise ValueError(f"--expression: {error}") from None


def rotation_vectors(specs: list[str] | None) -> torch.Tensor:
    """(1, 4, 3) axis-angle in radians from '--rotation JOINT=x,y,z' (degrees), once per joint."""
    rotations = torch.zeros(1, len(JOINT_NAMES), 3)
    for spec in specs or ():
        joint, sign, text = spec.partition("=")
        if not sign or joint not in JOINT_NAMES:
            raise ValueError(f"--rotation {spec!r}: expected JOINT=X,Y,Z (degrees, axis-angle) with JOINT one of "
                             f"{', '.join(JOINT_NAMES)}")
        values = ANGLE_DEG.check(f"--rotation {joint}", _numbers(text, f"--rotation {joint}", "0,30,0"))
        if len(values) != 3:
            raise ValueError(f"--rotation {spec!r}: expected 3 numbers (an axis-angle vector in degrees), got "
                             f"{len(values)}")
        rotations[0, JOINT_NAMES.index(joint)] = torch.tensor(values) * (math.pi / 180.0)
    return rotations


def turned(points: torch.Tensor, centre: torch.Tensor, yaw_deg: float) -> torch.Tensor:
    """Points (..., 3) turned by yaw_deg about the vertical axis through centre (3,): the face's front towards the
    image's right for a positive angle, as a camera moved to the person's left would see it."""
    angle = math.radians(yaw_deg)
    rotation = points.new_tensor([[math.cos(angle), 0.0, math.sin(angle)], [0.0, 1.0, 0.0],
                                  [-math.sin(angle), 0.0, math.cos(angle)]])
    return (points - centre) @ rotation.T + centre


def render_face(face: FaceModel, out: FaceOutput, size: int, yaw_deg: float = 30.0,
                landmarks: bool = False) -> torch.Tensor:
    """(B, size, size, 3) uint8 shaded pictures of the faces of `out`, turned by yaw_deg (see `turned`), each
    framed on its own, with the landmarks as red balls if asked for."""
    import trimesh

    from ..bodies.render import render_bodies
    from ..camera import Camera

    camera = Camera.square(size, fov_y=math.radians(FIELD_OF_VIEW_DEG))
    pictures = []
    for vertices, marks in zip(out.vertices.detach().cpu(), out.landmarks.detach().cpu()):
        centre = 0.5 * (vertices.min(dim=0).values + vertices.max(dim=0).values)
        markers = None
        if landmarks:  # lifted off the skin by their radius, so that the lids do not hide the eyes' landmarks
            mesh = trimesh.Trimesh(vertices.numpy(), face.faces.cpu().numpy(), process=False)
            normals = torch.as_tensor(mesh.vertex_normals[face.landmark_vertices.cpu().numpy()], dtype=marks.dtype)
            markers = turned(marks + LANDMARK_RADIUS * normals, centre, yaw_deg)[None]
        pictures.append(render_bodies(turned(vertices, centre, yaw_deg)[None], face.faces, camera, markers,
                                      LANDMARK_RADIUS))
    return torch.cat(pictures)


def show_face(args: argparse.Namespace) -> int:
    """The `face show` command (flags in engine/cli.py)."""
    from PIL import Image

    from ..cli_support import check_size

    size = check_size(args.size)
    yaw = ANGLE_DEG.check("--yaw", args.yaw)
    started = time.perf_counter()
    face = load_face(args.model)
    out = face(identity=identity_vector(args.identity, face), expression=expression_vector(args.expression, face),
               rotations=rotation_vectors(args.rotation))
    image = render_face(face, out, size, yaw, args.landmarks)[0]
    with atomic_path(args.out) as temporary:
        Image.fromarray(image.numpy()).save(temporary)
    print(f"wrote {args.out}: {size}x{size} {face.name}, {len(face.rest_vertices)} vertices"
          f"{f', {len(face.landmark_names)} landmarks' if args.landmarks else ''} "
          f"({time.perf_counter() - started:.2f} s)")
    return 0
