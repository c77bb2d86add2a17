"""SMPL's 24-joint kinematic tree: joint names in SMPL's order and each joint's parent.

Body frame (SMPL's): metres, +y up, +z forward (the way the body faces), +x the body's left.
"""
from __future__ import annotations

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand",
    "right_hand",
)
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
LANDMARK_NAMES = (
    "nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
    "lthumb", "lindex", "lmiddle", "lring", "lpinky", "rthumb", "rindex", "rmiddle", "rring", "rpinky",
)
"""The vertex landmarks smplx turns into extra joints (smplx.vertex_ids naming)."""
MAIN_CHILD = tuple(
    {0: 3, 9: 12}.get(j, next((c for c, parent in enumerate(PARENTS) if parent == j), -1)) for j in range(len(PARENTS))
)
"""The child whose direction defines a joint's bone (pelvis -> spine1, spine3 -> neck); -1 for the end joints."""

NUM_BODY_JOINTS = 22
"""SMPL's joints without its two hand joints: the body part of the SMPL+H and SMPL-X trees."""
FINGERS = ("index", "middle", "pinky", "ring", "thumb")
"""MANO's finger order (not anatomical: pinky before ring), each finger three joints from the knuckle outwards."""
HAND_JOINT_NAMES = tuple(f"{finger}{k}" for finger in FINGERS for k in (1, 2, 3))
SMPLH_JOINT_NAMES = JOINT_NAMES[:NUM_BODY_JOINTS] + tuple(
    f"{side}_{name}" for side in ("left", "right") for name in HAND_JOINT_NAMES)
"""SMPL+H's 52 joints: SMPL's body joints, then the left hand's 15 and the right hand's 15 (MANO order)."""
SMPLH_JOINT_INDEX = {name: i for i, name in enumerate(SMPLH_JOINT_NAMES)}
SMPLH_PARENTS = PARENTS[:NUM_BODY_JOINTS] + tuple(
    SMPLH_JOINT_INDEX[f"{side}_wrist" if joint.endswith("1") else f"{side}_{joint[:-1]}{int(joint[-1]) - 1}"]
    for side, joint in (name.split("_") for name in SMPLH_JOINT_NAMES[NUM_BODY_JOINTS:]))
"""A finger's first joint hangs from the wrist, the others from the joint before them."""
