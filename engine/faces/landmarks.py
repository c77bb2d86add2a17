"""The 68-point facial landmark layout of iBUG / 300-W (Sagonas et al. 2013), in its order.

Sides are the person's own (+x is the person's left, as in SMPL): the right brow and eye come first because
they appear on the left of a frontal image. Index i of the layout is entry i of LANDMARK_NAMES.

    0-16 jaw line, from the right ear down to the chin (8) and up to the left ear
    17-21 right brow, outer to inner end     22-26 left brow, inner to outer end
    27-30 nose bridge, top to tip            31-35 nose base, right to left (33 under the tip)
    36-41 right eye: outer corner, upper lid (outer, inner), inner corner, lower lid (inner, outer)
    42-47 left eye: inner corner, upper lid (inner, outer), outer corner, lower lid (outer, inner)
    48-59 outer lip: right corner, upper lip to the left corner (51 on the midline), lower lip back (57 midline)
    60-67 inner lip: right corner, upper (62 midline), left corner, lower (66 midline)
"""
from __future__ import annotations

_GROUPS = (("jaw", 17), ("right_brow", 5), ("left_brow", 5), ("nose_bridge", 4), ("nose_base", 5),
           ("right_eye", 6), ("left_eye", 6), ("outer_lip", 12), ("inner_lip", 8))

LANDMARK_NAMES: tuple[str, ...] = tuple(f"{group}_{k}" for group, count in _GROUPS for k in range(count))
"""'jaw_0' ... 'inner_lip_7': the group and the index within it."""

LANDMARK_FLIP: tuple[int, ...] = (
    *range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, *range(35, 30, -1),
    45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
    *range(54, 47, -1), *range(59, 54, -1), *range(64, 59, -1), 67, 66, 65,
)
"""The landmark each landmark becomes in the mirror image (x -> -x): used to mirror the right side's picks
onto the left, and for flipping fitted faces."""
