"""A blendshape face model with a four-joint skeleton, as in *Learning to fit morphable models* (Sec. 3.3):
identity and expression blend shapes, the joints neck (root), head and the two eyes, linear blend skinning.

    face = load_face()                       # assets/face/default_face.npz, made from Anny
    out = face(identity=(B, I), expression=(B, E), rotations=(B, 4, 3) axis-angle, translation=(B, 3))
    out.vertices (B, V, 3), out.joints (B, 4, 3), out.landmarks (B, L, 3)      # metres

Frame: +y up, +z forward (the face looks along +z), +x the person's left; the origin is the neck joint at rest
(for every identity: an identity moves the other joints, never the neck). Identity coefficients are in units of
the spread of the heads the basis was made from (a standard normal prior draws such heads); expression
coefficients are activations from 0 to 1 of the 52 ARKit-named facial actions (`expression_names`). Rotations
are axis-angle, each joint's relative to its parent, turning about the joint's rest position (the neck's turns
the whole head); the translation moves the neck joint. Everything is differentiable.

The file is an .npz of plain arrays, read with numpy without unpickling (FILE_ARRAYS lists them); anything
wrong with it is a FaceModelError with one line that names the file, says what is wrong and what to do.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ..bodies.skinning import blend_skinning, global_transforms
from ..npfiles import NumpyFileError, read_npz
from ..rotations import axis_angle_to_matrix

DEFAULT_FACE = Path(__file__).resolve().parents[2] / "assets" / "face" / "default_face.npz"
JOINT_NAMES = ("neck", "head", "eye_left", "eye_right")
JOINT_PARENTS = (-1, 0, 1, 1)

FILE_ARRAYS: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "vertices": ("f", ("V", 3)),
    "faces": ("i", ("F", 3)),
    "identity_basis": ("f", ("I", "V", 3)),
    "expression_basis": ("f", ("E", "V", 3)),
    "expression_names": ("U", ("E",)),
    "joint_names": ("U", (4,)),
    "joint_parents": ("i", (4,)),
    "joints": ("f", (4, 3)),
    "joint_identity_basis": ("f", ("I", 4, 3)),
    "weights": ("f", ("V", 4)),
    "landmark_names": ("U", ("L",)),
    "landmark_vertices": ("i", ("L",)),
    "face_region": ("i", ("R",)),
}
"""Each array of a face model file: its kind (f float, i integer, U text) and shape, letters naming sizes that
must agree between arrays: V vertices, F faces, I identity and E expression components, L landmarks, R vertices
of the frontal face region."""
_KINDS = {"f": ("floating-point numbers", "f"), "i": ("integers", "iu"), "U": ("text", "U")}


class FaceModelError(ValueError):
    """A face model file that cannot be used; the message names it and says what is wrong and what to do."""


class FaceOutput(NamedTuple):
    vertices: torch.Tensor
    """(B, V, 3) posed vertices, metres."""
    joints: torch.Tensor
    """(B, 4, 3) posed joints: neck, head, eye_left, eye_right."""
    landmarks: torch.Tensor
    """(B, L, 3) the landmark vertices (iBUG's 68 for the default face)."""


def _check_arrays(arrays: dict[str, np.ndarray], label: str) -> None:
    """Every array of FILE_ARRAYS present, of its kind and shape, finite, and its indices within range."""
    remedy = "rebuild it with scripts/convert_anny_face.py"
    sizes: dict[str, int] = {}
    for name, (kind, shape) in FILE_ARRAYS.items():
        if name not in arrays:
            raise FaceModelError(f"{label} has no {name!r} array; it is not a face model file ({remedy})")
        array = arrays[name]
        words, codes = _KINDS[kind]
        if array.dtype.kind not in codes:
            raise FaceModelError(f"{label}: its {name!r} array holds {array.dtype} values, not {words}; {remedy}")
        expected = tuple(sizes.get(s, s) if isinstance(s, str) else s for s in shape)
        if array.ndim != len(shape) or any(isinstance(e, int) and e != n for e, n in zip(expected, array.shape)):
            wanted = "(" + ", ".join(map(str, shape)) + ")"
            raise FaceModelError(f"{label}: its {name!r} array has shape {array.shape}, not {wanted} as the other "
                                 f"arrays require; {remedy}")
        sizes.update({s: n for s, n in zip(shape, array.shape) if isinstance(s, str)})
        if kind == "f" and not np.isfinite(array).all():
            raise FaceModelError(f"{label}: its {name!r} array holds NaN or infinite values; {remedy}")
    for name, count in (("faces", sizes["V"]), ("landmark_vertices", sizes["V"]), ("face_region", sizes["V"])):
        if arrays[name].size and (arrays[name].min() < 0 or arrays[name].max() >= count):
            raise FaceModelError(f"{label}: its {name!r} array holds vertex ids outside 0..{count - 1}; {remedy}")
    if tuple(arrays["joint_names"].tolist()) != JOINT_NAMES or tuple(arrays["joint_parents"].tolist()) != JOINT_PARENTS:
        raise FaceModelError(f"{label}: its joints must be {', '.join(JOINT_NAMES)} with parents {JOINT_PARENTS}; "
                             f"{remedy}")
    weights = arrays["weights"]
    if (weights < 0).any() or not np.allclose(weights.sum(axis=1), 1.0, atol=1e-3):
        raise FaceModelError(f"{label}: its skinning 'weights' must be nonnegative and sum to 1 per vertex; {remedy}")
    for name in ("expression_names", "landmark_names"):
        if len(set(arrays[name].tolist())) != len(arrays[name]):
            raise FaceModelError(f"{label}: its {name!r} repeat a name; {remedy}")


class FaceModel(torch.nn.Module):
    """The face model of an .npz file (module docstring); its tensors follow .to(device, dtype)."""

    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        super().__init__()
        self.name = name
        self.identity_count = int(arrays["identity_basis"].shape[0])
        self.expression_names: tuple[str, ...] = tuple(arrays["expression_names"].tolist())
        self.landmark_names: tuple[str, ...] = tuple(arrays["landmark_names"].tolist())
        self.rest_vertices: torch.Tensor
        self.faces: torch.Tensor
        self.landmark_vertices: torch.Tensor
        self.face_region: torch.Tensor
        for buffer, key in (("rest_vertices", "vertices"), ("identity_basis", "identity_basis"),
                            ("expression_basis", "expression_basis"), ("rest_joints", "joints"),
                            ("joint_identity_basis", "joint_identity_basis"), ("weights", "weights")):
            self.register_buffer(buffer, torch.as_tensor(arrays[key], dtype=torch.float32))
        for key in ("faces", "landmark_vertices", "face_region"):
            self.register_buffer(key, torch.as_tensor(arrays[key].astype(np.int64)))

    @property
    def expression_count(self) -> int:
        return len(self.expression_names)

    def extra_repr(self) -> str:
        return (f"{self.name}: {len(self.rest_vertices)} vertices, {self.identity_count} identity and "
                f"{self.expression_count} expression components, {len(self.landmark_names)} landmarks")

    def restricted(self, vertices: torch.Tensor) -> "FaceModel":
        """This face on the given vertices (N,) alone, in their order: the same joints, identity and expression, and
        a forward whose vertices (B, N, 3) cost N / V of the whole face's (an energy over the landmarks, a loss over
        a few vertices); it has no faces, landmarks or face region."""
        part = copy.deepcopy(self)
        none = self.faces.new_zeros(0)
        for name, value in (("rest_vertices", self.rest_vertices[vertices]),
                            ("identity_basis", self.identity_basis[:, vertices]),
                            ("expression_basis", self.expression_basis[:, vertices]),
                            ("weights", self.weights[vertices]), ("faces", self.faces[:0]),
                            ("landmark_vertices", none), ("face_region", none)):
            setattr(part, name, value)
        part.landmark_names = ()
        part.name = f"{self.name}, {len(part.rest_vertices)} of its vertices"
        return part

    def expression_vector(self, values: dict[str, float]) -> torch.Tensor:
        """(E,) expression coefficients from {name: activation}, the others zero; ValueError for an unknown name."""
        vector = torch.zeros(self.expression_count, dtype=self.rest_vertices.dtype, device=self.rest_vertices.device)
        for name, value in values.items():
            if name not in self.expression_names:
                raise ValueError(f"unknown facial expression {name!r}; {self.name} has "
                                 f"{', '.join(self.expression_names)}")
            vector[self.expression_names.index(name)] = float(value)
        return vector

    def forward(self, identity: torch.Tensor | None = None, expression: torch.Tensor | None = None,
                rotations: torch.Tensor | None = None, translation: torch.Tensor | None = None) -> FaceOutput:
        """identity (B, I), expression (B, E), rotations (B, 4, 3) axis-angle (neck, head, eye_left, eye_right,
        each relative to its parent), translation (B, 3) of the neck joint; None means zeros and a batch of 1 is
        broadcast. Runs in the model's dtype, on the inputs' device (the model moves there)."""
        given = {name: tensor for name, tensor in (("identity", identity), ("expression", expression),
                                                   ("rotations", rotations), ("translation", translation))
                 if tensor is not None}
        shapes = {"identity": (self.identity_count,), "expression": (self.expression_count,),
                  "rotations": (len(JOINT_NAMES), 3), "translation": (3,)}
        for name, tensor in given.items():
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
            if tensor.ndim != len(shapes[name]) + 1 or tuple(tensor.shape[1:]) != shapes[name]:
                wanted = ", ".join(map(str, shapes[name]))
                raise ValueError(f"{name} must have shape (B, {wanted}), got {tuple(tensor.shape)}")
        devices = {tensor.device for tensor in given.values()}
        if len(devices) > 1:
            raise ValueError(f"identity, expression, rotations and translation must be on one device, got "
                             f"{sorted(map(str, devices))}")
        batch = max((tensor.shape[0] for tensor in given.values()), default=1)
        for name, tensor in given.items():
            if tensor.shape[0] not in (1, batch):
                raise ValueError(f"{name} has batch size {tensor.shape[0]} but another input has {batch}")
        if devices and devices != {self.rest_vertices.device}:
            self.to(devices.pop())
        dtype, device = self.rest_vertices.dtype, self.rest_vertices.device
        vertices = self.rest_vertices.expand(batch, -1, -1)
        joints = self.rest_joints.expand(batch, -1, -1)
        if identity is not None:
            identity = identity.to(dtype).expand(batch, -1)
            vertices = vertices + torch.einsum("bi,ivc->bvc", identity, self.identity_basis)
            joints = joints + torch.einsum("bi,ijc->bjc", identity, self.joint_identity_basis)
        if expression is not None:
            vertices = vertices + torch.einsum("be,evc->bvc", expression.to(dtype).expand(batch, -1),
                                               self.expression_basis)
        if rotations is None:
            rotations = torch.zeros(batch, len(JOINT_NAMES), 3, dtype=dtype, device=device)
        matrices = axis_angle_to_matrix(rotations.to(dtype).expand(batch, -1, -1))
        global_rotation, posed_joints = global_transforms(matrices, joints, JOINT_PARENTS)
        posed = blend_skinning(vertices, self.weights, global_rotation, posed_joints, joints)
        if translation is not None:
            shift = translation.to(dtype).expand(batch, -1)[:, None]
            posed, posed_joints = posed + shift, posed_joints + shift
        return FaceOutput(posed, posed_joints, posed[:, self.landmark_vertices])


def load_face(path: str | Path | None = None, dtype: torch.dtype = torch.float32,
              device: str | torch.device = "cpu") -> FaceModel:
    """The default face (path None: DEFAULT_FACE) or a face model .npz written by scripts/convert_anny_face.py,
    in dtype on device. Raises FaceModelError with a one-line message."""
    file = DEFAULT_FACE if path is None else Path(path)
    label = f"the default face model ({file})" if path is None else f"face model file {str(file)!r}"
    if not file.is_file():
        missing = "does not exist" if not file.exists() else "is not a file"
        hint = "restore assets/face/ from the repository" if path is None else "check the path"
        raise FaceModelError(f"{label} {missing}; {hint}")
    try:
        arrays = read_npz(file)
    except NumpyFileError as error:
        raise FaceModelError(f"{label} cannot be read: {error}; pass a face model .npz written by "
                             "scripts/convert_anny_face.py") from None
    _check_arrays(arrays, label)
    name = "default face (Anny)" if path is None else file.name
    return FaceModel(arrays, name).to(device=device, dtype=dtype)
