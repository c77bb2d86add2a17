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
