"""Body models on smplx: the shipped license-free default body, or a user's SMPL / SMPL-H / SMPL-X / MANO file.

    body = load_body()                       # assets/body/default_body.npz, SMPL format, made from Anny
    body = load_body(model_type="smplh")     # assets/body/default_body_smplh.npz: the same body with Anny's hands
    body = load_body("SMPL_NEUTRAL.pkl")     # an official file (chumpy pickles need no chumpy)
    out = body(betas=(B, <=10), pose=(B, J, 3) axis-angle, transl=(B, 3), hand_pose=(B, 30, 3) axis-angle)
    out.vertices, out.joints

The pose holds one axis-angle vector per posable joint, the root's first: SMPL's 24 joints, the 22 body joints
of SMPL-H and SMPL-X (jaw and eyes stay at rest) or MANO's 16 hand joints. hand_pose (SMPL-H and SMPL-X only;
flat hands when None) holds the left hand's 15 finger joints, then the right hand's, in MANO's order
(skeleton.SMPLH_JOINT_NAMES[22:]). The joints are the model's skeleton (SMPL+H: skeleton.SMPLH_JOINT_NAMES),
then smplx's landmark joints (skeleton.LANDMARK_NAMES: nose, eyes, ears, toes, heels, fingertips).
"""
from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import smplx
import torch

from . import BETAS
from .pickle_loader import ModelFileError, load_model_arrays
from .skeleton import LANDMARK_NAMES

DEFAULT_BODY = Path(__file__).resolve().parents[2] / "assets" / "body" / "default_body.npz"
DEFAULT_BODY_SMPLH = DEFAULT_BODY.with_name("default_body_smplh.npz")
DEFAULT_BODIES = {"smpl": DEFAULT_BODY, "smplh": DEFAULT_BODY_SMPLH}
"""The shipped default body in each format it comes in (one mesh and shape space; SMPL+H adds the fingers)."""
HAND_POSE_JOINTS = 30
"""Finger joints of SMPL-H and SMPL-X that hand_pose holds: the left hand's 15, then the right hand's."""


class _Kind(NamedTuple):
    joints: int
    """Skinning joints (columns of the weights)."""
    posable: int
    """Joints the pose argument holds."""
    official_vertices: int


KINDS = {
    "smpl": _Kind(24, 24, 6890),
    "smplh": _Kind(52, 22, 6890),
    "smplx": _Kind(55, 22, 10475),
    "mano": _Kind(16, 16, 778),
}
NAMES = {"smpl": "SMPL", "smplh": "SMPL-H", "smplx": "SMPL-X", "mano": "MANO"}
MODEL_ARRAYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
"""The arrays a body is made of: numbers, all of them finite."""


class BodyOutput(NamedTuple):
    vertices: torch.Tensor
    """(B, V, 3) posed vertices, metres."""
    joints: torch.Tensor
    """(B, J, 3) the skeleton's joints followed by smplx's landmark joints (nose, eyes, ears, toes, ...)."""


def detect_model_type(arrays: dict, label: str) -> str:
    """'smpl', 'smplh', 'smplx' or 'mano', from the array shapes (skinning joints, then vertex count)."""
    for key in ("v_template", "weights", "shapedirs", "f", "J_regressor", "kintree_table"):
        if key not in arrays:
            raise ModelFileError(f"{label} has no {key!r} array; it is not a SMPL-family model file")
    vertices = np.shape(arrays["v_template"])[0]
    joints = np.shape(arrays["weights"])[-1]
    for kind, spec in KINDS.items():
        if joints == spec.joints:
            own_topology = kind == "smpl" or (kind == "smplh" and "landmark_names" in arrays)
            if not own_topology and vertices != spec.official_vertices:
                landmarks = " and no landmark_names / landmark_vertex_ids arrays" if kind == "smplh" else ""
                raise ModelFileError(f"{label} has {joints} joints like {NAMES[kind]} but {vertices} vertices "
                                     f"instead of {spec.official_vertices}{landmarks}")
            return kind
    raise ModelFileError(f"{label} has {joints} skinning joints and {vertices} vertices, which matches no SMPL-family "
                         "model (SMPL 24 joints, SMPL-H 52, SMPL-X 55, MANO 16)")


def _check_arrays(arrays: dict, label: str) -> None:
    """The model's arrays are finite numbers and its faces index its vertices (smplx would fail deep inside, or
    draw nothing)."""
    for key in MODEL_ARRAYS:
        value = np.asarray(arrays[key]) if key in arrays else None
        if value is not None and value.dtype.kind not in "biuf":
            raise ModelFileError(f"{label}: its {key!r} array holds {value.dtype} values, not numbers; the file is "
                                 "damaged")
        if value is not None and value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{label}: its {key!r} array holds NaN or infinite values; the file is damaged")
    vertices = np.shape(arrays["v_template"])[0]
    faces = np.asarray(arrays["f"])
    if faces.ndim != 2 or faces.shape[1] != 3 or not len(faces) or faces.min() < 0 or faces.max() >= vertices:
        raise ModelFileError(f"{label}: its faces 'f' must be (F, 3) indices of its {vertices} vertices; the file is "
                             "damaged")


def _vertex_ids(arrays: dict, label: str, kind: str) -> dict[str, int] | None:
    """The landmark vertex ids stored in a SMPL or SMPL-H file, or None for smplx's own (official topologies).
    A mesh of another topology needs its own (the shipped bodies share SMPL's vertex count, not its topology)."""
    vertices = np.shape(arrays["v_template"])[0]
    if "landmark_names" in arrays:
        ids = dict(zip(np.asarray(arrays["landmark_names"]).tolist(),
                       np.asarray(arrays.get("landmark_vertex_ids", [])).tolist()))
        missing = [name for name in LANDMARK_NAMES if name not in ids]
        if missing or not all(isinstance(i, int) and 0 <= i < vertices for i in ids.values()):
            raise ModelFileError(f"{label}: its landmark_names / landmark_vertex_ids must give a vertex id below "
                                 f"{vertices} for each of {', '.join(LANDMARK_NAMES)}"
                                 + (f"; {', '.join(missing)} missing" if missing else ""))
        return ids
    if vertices != KINDS[kind].official_vertices:
        raise ModelFileError(f"{label} has its own topology but no landmark_names / landmark_vertex_ids arrays, "
                             "which smplx needs for its extra joints")
    return None


def _build_layer(kind: str, arrays: dict, num_betas: int, vertex_ids: dict | None,
                 path: Path | None) -> torch.nn.Module:
    if kind in ("smplh", "smplx"):
        for side in "lr":  # files made for use without hand PCA may lack these; flat hands need neither
            arrays.setdefault(f"hands_components{side}", np.eye(45))
            arrays.setdefault(f"hands_mean{side}", np.zeros(45))
    if kind == "mano":
        arrays.setdefault("hands_components", np.eye(45))
        arrays.setdefault("hands_mean", np.zeros(45))
    struct = smplx.utils.Struct(**arrays)
    common = dict(num_betas=num_betas, dtype=torch.float32)
    with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a warning for models with < 300 betas
        if kind == "smpl":
            return smplx.SMPL("", data_struct=struct, vertex_ids=vertex_ids, **common)
        if kind == "smplh":
            return smplx.SMPLH("", data_struct=struct, vertex_ids=vertex_ids, use_pca=False, flat_hand_mean=True,
                               **common)
        if kind == "mano":
            is_right = path is None or "left" not in path.name.lower()
            return smplx.MANO("", data_struct=struct, use_pca=False, flat_hand_mean=True, is_rhand=is_right, **common)
        # smplx.SMPLX only reads files: hand it the plain numeric arrays in a temporary .npz
        with tempfile.TemporaryDirectory() as folder:
            plain = {k: v for k, v in arrays.items() if isinstance(v, np.ndarray) and not v.dtype.hasobject}
            np.savez(Path(folder) / "model.npz", **plain)
            return smplx.SMPLX(str(Path(folder) / "model.npz"), ext="npz", use_pca=False, flat_hand_mean=True,
                               **common)


class BodyModel(torch.nn.Module):
    """A smplx body model with one calling convention for every model type; runs where its inputs are."""

    def __init__(self, layer: torch.nn.Module, model_type: str, name: str) -> None:
        super().__init__()
        self.layer = layer
        self.model_type = model_type
        self.name = name
        self.num_betas = int(layer.num_betas)
        self.num_pose_joints = KINDS[model_type].posable
        self.num_hand_joints = HAND_POSE_JOINTS if model_type in ("smplh", "smplx") else 0
        self.register_buffer("faces", layer.faces_tensor.clone())

    @property
    def num_vertices(self) -> int:
        return int(self.layer.v_template.shape[0])

    def extra_repr(self) -> str:
        return f"{self.name}: {NAMES[self.model_type]}, {self.num_vertices} vertices, {self.num_betas} betas"

    def forward(self, betas: torch.Tensor | None = None, pose: torch.Tensor | None = None,
                transl: torch.Tensor | None = None, hand_pose: torch.Tensor | None = None) -> BodyOutput:
        """betas (B, <= num_betas), pose (B, num_pose_joints, 3) axis-angle, transl (B, 3), hand_pose
        (B, num_hand_joints, 3) axis-angle (SMPL-H and SMPL-X only); any may be None (zeros: flat hands) and a
        batch of 1 is broadcast. Runs on the inputs' device (the model moves there)."""
        given = {name: t for name, t in (("betas", betas), ("pose", pose), ("transl", transl),
                                         ("hand_pose", hand_pose)) if t is not None}
        for name, tensor in given.items():
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        devices = {t.device for t in given.values()}
        if len(devices) > 1:
            raise ValueError(f"betas, pose, transl and hand_pose must be on one device, got "
                             f"{sorted(map(str, devices))}")
        device = devices.pop() if devices else self.faces.device
        batch = max((t.shape[0] for t in given.values() if t.ndim > 0), default=1)
        if betas is not None and betas.ndim != 2:
            raise ValueError(f"betas must have shape (B, <= {self.num_betas}), got {tuple(betas.shape)}")
        if betas is not None and betas.shape[1] > self.num_betas:
            raise ValueError(f"{self.name} has {self.num_betas} shape components (betas) but {betas.shape[1]} betas "
                             "were given")
        if betas is not None:
            BETAS.check("betas", tuple(betas.detach().flatten().tolist()))
        if pose is not None and (pose.ndim != 3 or pose.shape[1:] != (self.num_pose_joints, 3)):
            raise ValueError(f"pose must have shape (B, {self.num_pose_joints}, 3) (axis-angle per joint, root "
                             f"first), got {tuple(pose.shape)}")
        if transl is not None and (transl.ndim != 2 or transl.shape[1] != 3):
            raise ValueError(f"transl must have shape (B, 3), got {tuple(transl.shape)}")
        if hand_pose is not None and not self.num_hand_joints:
            raise ValueError(f"{self.name} is a {NAMES[self.model_type]} model, which has no hand_pose (use a "
                             "SMPL-H or SMPL-X model, e.g. load_body(model_type='smplh'))")
        if hand_pose is not None and (hand_pose.ndim != 3 or hand_pose.shape[1:] != (self.num_hand_joints, 3)):
            raise ValueError(f"hand_pose must have shape (B, {self.num_hand_joints}, 3) (axis-angle per finger joint, "
                             f"left hand then right), got {tuple(hand_pose.shape)}")
        for name in ("pose", "transl", "hand_pose"):
            if name in given and not torch.isfinite(given[name]).all():
                raise ValueError(f"{name} holds NaN or infinite values")
        for name, tensor in given.items():
            if tensor.shape[0] not in (1, batch):
                raise ValueError(f"{name} has batch size {tensor.shape[0]} but another input has {batch}")
        if self.faces.device != device:
            self.to(device)

        def full(tensor: torch.Tensor | None, shape: tuple[int, ...]) -> torch.Tensor:
            if tensor is None:
                return torch.zeros((batch, *shape), device=device)
            tensor = tensor.to(torch.float32)
            return tensor.expand(batch, *tensor.shape[1:])

        betas = full(betas, (self.num_betas,))
        betas = torch.nn.functional.pad(betas, (0, self.num_betas - betas.shape[1]))
        pose = full(pose, (self.num_pose_joints, 3))
        arguments = dict(betas=betas, global_orient=pose[:, 0], transl=full(transl, (3,)))
        if self.model_type == "mano":
            arguments["hand_pose"] = pose[:, 1:].reshape(batch, -1)
        else:
            arguments["body_pose"] = pose[:, 1:].reshape(batch, -1)
        if self.num_hand_joints:
            hands = full(hand_pose, (self.num_hand_joints, 3)).reshape(batch, 2, -1)
            arguments.update(left_hand_pose=hands[:, 0], right_hand_pose=hands[:, 1])
        if self.model_type == "smplx":
            eye = torch.zeros(batch, 3, device=device)
            expression = torch.zeros(batch, self.layer.num_expression_coeffs, device=device)
            arguments.update(jaw_pose=eye, leye_pose=eye, reye_pose=eye, expression=expression)
        out = self.layer(**arguments)
        return BodyOutput(out.vertices, out.joints)


def load_body(path: str | Path | None = None, model_type: str | None = None, num_betas: int = 10) -> BodyModel:
    """The default body (path None) or a SMPL / SMPL-H / SMPL-X / MANO .pkl or .npz file, on the CPU.

    model_type ('smpl', 'smplh', 'smplx', 'mano') checks what the file holds; with path None it picks the default
    body's format: SMPL (None or 'smpl') or SMPL+H ('smplh', DEFAULT_BODY_SMPLH). num_betas is how many shape
    components to use, at most as many as the file has. Raises ModelFileError with a one-line message."""
    if model_type is not None and model_type not in KINDS:
        raise ModelFileError(f"unknown body model type {model_type!r}; use one of {', '.join(KINDS)}")
    if path is None and model_type not in (None, *DEFAULT_BODIES):
        raise ModelFileError(f"the default body comes as {' or '.join(NAMES[k] for k in DEFAULT_BODIES)}, not "
                             f"{NAMES[model_type]}; pass a {NAMES[model_type]} model file")
    if num_betas < 1:
        raise ModelFileError(f"num_betas must be at least 1, got {num_betas}")
    file = DEFAULT_BODIES[model_type or "smpl"] if path is None else Path(path)
    label = "the default body" if path is None else repr(file.name)
    arrays = load_model_arrays(file)
    kind = detect_model_type(arrays, label)
    _check_arrays(arrays, label)
    if model_type is not None and model_type != kind:
        raise ModelFileError(f"{label} is a {NAMES[kind]} model ({np.shape(arrays['v_template'])[0]} vertices, "
                             f"{np.shape(arrays['weights'])[-1]} joints), not {NAMES[model_type]}")
    available = np.shape(arrays["shapedirs"])[-1]
    if kind == "smplx":
        available -= 100 if available > 300 else 0  # SMPL-X stores 300 shape + 100 expression components
    if num_betas > available:
        raise ModelFileError(f"{label} has {available} shape components (betas) but {num_betas} were asked for")
    vertex_ids = _vertex_ids(arrays, label, kind) if kind in ("smpl", "smplh") else None
    layer = _build_layer(kind, arrays, num_betas, vertex_ids, None if path is None else file)
    name = f"default body (Anny{', SMPL+H' if kind == 'smplh' else ''})" if path is None else file.name
    return BodyModel(layer, kind, name)
