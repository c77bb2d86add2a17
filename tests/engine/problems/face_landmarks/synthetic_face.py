"""A small face model with the interface of engine.faces.model's FaceModel, for fast tests of the face-landmarks
problem: an ellipsoid head of a few hundred vertices, random smooth identity and local expression blend shapes,
68 landmarks on its front, and linear blend skinning of the four joints (neck, head, eyes)."""
from __future__ import annotations

import copy
import math

import torch

from engine.faces.model import JOINT_PARENTS, FaceModelError, FaceOutput
from engine.rotations import axis_angle_to_matrix

ARKIT = ("eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
         "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
         "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose",
         "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight",
         "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
         "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
         "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
         "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
         "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut")
RINGS, SEGMENTS = 12, 24
RADII = (0.075, 0.11, 0.095)
JOINTS = ((0.0, -0.09, -0.03), (0.0, -0.03, -0.01), (0.032, 0.025, 0.06), (-0.032, 0.025, 0.06))


def _sphere() -> tuple[torch.Tensor, torch.Tensor]:
    """A UV sphere of unit radius: vertices (V, 3) and faces (F, 3), counter-clockwise seen from outside."""
    rings = []
    for i in range(1, RINGS + 1):
        polar = math.pi * i / (RINGS + 1)
        rings += [(math.sin(polar) * math.sin(2 * math.pi * j / SEGMENTS), math.cos(polar),
                   math.sin(polar) * math.cos(2 * math.pi * j / SEGMENTS)) for j in range(SEGMENTS)]
    vertices = torch.tensor([(0.0, 1.0, 0.0)] + rings + [(0.0, -1.0, 0.0)], dtype=torch.float64)
    bottom = len(vertices) - 1
    faces = []
    for j in range(SEGMENTS):
        k = (j + 1) % SEGMENTS
        faces.append((0, 1 + j, 1 + k))
        faces.append((bottom, 1 + (RINGS - 1) * SEGMENTS + k, 1 + (RINGS - 1) * SEGMENTS + j))
        for i in range(RINGS - 1):
            a, b = 1 + i * SEGMENTS + j, 1 + i * SEGMENTS + k
            faces += [(a, a + SEGMENTS, b), (b, a + SEGMENTS, b + SEGMENTS)]
    return vertices, torch.tensor(faces)


class SyntheticFace(torch.nn.Module):
    """FaceModel's interface (engine.faces.model) on a tiny random head."""

    def __init__(self, identity_count: int = 6, expression_names: tuple[str, ...] = ARKIT[:8], seed: int = 0,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        unit, faces = _sphere()
        rest = unit * torch.tensor(RADII, dtype=torch.float64)
        front = torch.nonzero(unit[:, 2] > 0.35).squeeze(1)
        self.identity_count = identity_count
        self.expression_names = tuple(expression_names)
        self.landmark_names = tuple(f"landmark{k}" for k in range(68))
        landmarks = front[torch.randperm(len(front), generator=generator)[:68]]
        fields = torch.randn(identity_count, 3, 4, generator=generator, dtype=torch.float64) * 0.03
        identity = torch.einsum("icd,vd->ivc", fields, torch.cat([rest / 0.1, torch.ones(len(rest), 1,
                                                                                           dtype=torch.float64)], 1))
        centres = unit[front[torch.randint(len(front), (len(expression_names),), generator=generator)]]
        falloff = torch.exp(-torch.cdist(centres, unit).square() / 0.1)  # (E, V)
        expression = 0.01 * falloff[..., None] * unit[None] * torch.randn(len(expression_names), 1, 1,
                                                                          generator=generator, dtype=torch.float64)
        joints = torch.tensor(JOINTS, dtype=torch.float64)
        eyes = torch.exp(-torch.cdist(rest, joints[2:]).square() / 0.0004)
        neck = torch.sigmoid((joints[1, 1] - rest[:, 1]) / 0.02)
        weights = torch.cat([neck[:, None], (1 - neck)[:, None], eyes], 1)
        for name, value in (("rest_vertices", rest), ("identity_shapes", identity), ("expression_shapes", expression),
                            ("rest_joints", joints), ("weights", weights / weights.sum(1, keepdim=True))):
            self.register_buffer(name, value.to(dtype))
        self.register_buffer("faces", faces)
        self.register_buffer("landmark_vertices", landmarks)
        self.register_buffer("face_region", torch.nonzero(unit[:, 2] > 0).squeeze(1))

    def forward(self, identity=None, expression=None, rotations=None, translation=None) -> FaceOutput:
        given = [value for value in (identity, expression, rotations, translation) if value is not None]
        batch = len(given[0]) if given else 1
        like = self.rest_vertices
        identity = like.new_zeros(batch, self.identity_count) if identity is None else identity
        expression = like.new_zeros(batch, len(self.expression_names)) if expression is None else expression
        rotations = like.new_zeros(batch, 4, 3) if rotations is None else rotations
        translation = like.new_zeros(batch, 3) if translation is None else translation
        shaped = (self.rest_vertices + torch.einsum("bi,ivc->bvc", identity, self.identity_shapes)
                  + torch.einsum("be,evc->bvc", expression, self.expression_shapes))
        local = axis_angle_to_matrix(rotations)  # (B, 4, 3, 3)
        world_rotations, world_joints = [], []
        for j, parent in enumerate(JOINT_PARENTS):
            offset = self.rest_joints[j] - (self.rest_joints[parent] if parent >= 0 else 0)
            if parent < 0:
                world_rotations.append(local[:, j])
                world_joints.append(offset.expand(batch, 3))
            else:
                world_joints.append(world_joints[parent] + (world_rotations[parent] @ offset[:, None]).squeeze(-1))
                world_rotations.append(world_rotations[parent] @ local[:, j])
        rotation, joints = torch.stack(world_rotations, 1), torch.stack(world_joints, 1)
        posed = torch.einsum("bjcd,bvjd->bvjc", rotation, shaped[:, :, None, :] - self.rest_joints) + joints[:, None]
        vertices = (self.weights[None, :, :, None] * posed).sum(2) + translation[:, None]
        joints = joints + translation[:, None]
        return FaceOutput(vertices, joints, vertices[:, self.landmark_vertices])

    def restricted(self, vertices: torch.Tensor) -> "SyntheticFace":
        """This face on the given vertices alone (FaceModel.restricted)."""
        part = copy.deepcopy(self)
        none = self.landmark_vertices.new_zeros(0)
        for name, value in (("rest_vertices", self.rest_vertices[vertices]),
                            ("identity_shapes", self.identity_shapes[:, vertices]),
                            ("expression_shapes", self.expression_shapes[:, vertices]),
                            ("weights", self.weights[vertices]), ("faces", self.faces[:0]),
                            ("landmark_vertices", none), ("face_region", none)):
            setattr(part, name, value)
        part.landmark_names = ()
        return part

    def expression_vector(self, values: dict[str, float]) -> torch.Tensor:
        unknown = [name for name in values if name not in self.expression_names]
        if unknown:
            raise FaceModelError(f"unknown expression(s) {', '.join(unknown)}; choose from "
                                 f"{', '.join(self.expression_names[:4])}, ...")
        vector = self.rest_vertices.new_zeros(len(self.expression_names))
        for name, value in values.items():
            vector[self.expression_names.index(name)] = value
        return vector
