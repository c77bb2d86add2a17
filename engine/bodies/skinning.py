"""Linear blend skinning of a SMPL-family body on rotation matrices, for fitting: the joints and only the vertices
asked for.

smplx poses every vertex from axis-angle input. A fitter needs the joints and a few landmark vertices at every
energy evaluation, and the whole mesh only for metrics and losses; it holds rotations as matrices (6D inside a
learned fitter). `Skinning` is the same model (shape blend, pose-corrective blend, joint regressor, kinematic
chain, blend skinning; tests compare it with smplx) computed on a chosen vertex subset:

    skin = Skinning(load_body(), vertices=landmark_ids)     # or vertices=None: every vertex
    joints, vertices = skin(betas (B, nb), rotations (B, J, 3, 3))   # (B, J, 3), (B, n, 3); root joint's rest
                                                                     # position kept, no translation

The joint regressor's product with the shape space is taken once, so the joints cost O(J nb), not O(V nb).
"""
from __future__ import annotations

import functools

import torch
from torch import nn

from .model import BodyModel


@functools.lru_cache(maxsize=None)
def depth_levels(parents: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """The joints by depth below the root (root level first), each with its joints' parents: one batched
    product per level composes the chain."""
    depth: dict[int, int] = {}
    pending = list(range(len(parents)))
    while pending:
        waiting = []
        for joint in pending:
            parent = parents[joint]
            if parent < 0:
                depth[joint] = 0
            elif parent in depth:
                depth[joint] = depth[parent] + 1
            else:
                waiting.append(joint)
        if len(waiting) == len(pending):
            raise ValueError("the kinematic tree has a cycle or joints unreachable from the root")
        pending = waiting
    levels = []
    for d in range(max(depth.values()) + 1):
        joints = tuple(j for j in range(len(parents)) if depth[j] == d)
        levels.append((joints, tuple(parents[j] for j in joints)))
    return tuple(levels)


def global_transforms(rotations: torch.Tensor, rest_joints: torch.Tensor, parents: tuple[int, ...]
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Global rotations (B, J, 3, 3) and posed joint positions (B, J, 3) of local rotations (B, J, 3, 3) about
    rest joints (B, J, 3); the root stays at its rest position."""
    batch, count = rotations.shape[:2]
    rotation = [torch.empty(0)] * count
    position = [torch.empty(0)] * count
    for joints, joint_parents in depth_levels(parents):
        index = list(joints)
        if joint_parents[0] < 0:
            for j in index:
                rotation[j], position[j] = rotations[:, j], rest_joints[:, j]
            continue
        parent_rotation = torch.stack([rotation[p] for p in joint_parents], 1)
        parent_position = torch.stack([position[p] for p in joint_parents], 1)
        bones = (rest_joints[:, index] - rest_joints[:, list(joint_parents)]).unsqueeze(-1)
        level_rotation = parent_rotation @ rotations[:, index]
        level_position = parent_position + (parent_rotation @ bones).squeeze(-1)
        for k, j in enumerate(index):
            rotation[j], position[j] = level_rotation[:, k], level_position[:, k]
    return torch.stack(rotation, 1), torch.stack(position, 1)


class Skinning(nn.Module):
    """A body's skinning restricted to a vertex subset (module docstring); buffers follow .to(device)."""

    def __init__(self, body: BodyModel, vertices: torch.Tensor | list[int] | None = None) -> None:
        super().__init__()
        layer = body.layer
        template = layer.v_template.detach().float()
        shapedirs = layer.shapedirs.detach().float()
        regressor = layer.J_regressor.detach().float()
        self.parents = (-1,) + tuple(int(p) for p in layer.parents.tolist()[1:])
        index = torch.arange(template.shape[0]) if vertices is None else torch.as_tensor(vertices, dtype=torch.long)
        if index.ndim != 1 or (len(index) and (int(index.min()) < 0 or int(index.max()) >= template.shape[0])):
            raise ValueError(f"vertex ids must be a list of indices below {template.shape[0]}")
        count = len(self.parents)
        posedirs = layer.posedirs.detach().float().reshape(-1, template.shape[0], 3)  # (9 (J-1), V, 3)
        self.register_buffer("joint_template", regressor @ template)  # (J, 3)
        self.register_buffer("joint_shapedirs", torch.einsum("jv,vcb->jcb", regressor, shapedirs))  # (J, 3, nb)
        self.register_buffer("template", template[index])
        self.register_buffer("shapedirs", shapedirs[index])
        self.register_buffer("posedirs", posedirs[:, index])
        self.register_buffer("weights", layer.lbs_weights.detach().float()[index])  # (n, J)
        self.pose_correctives = bool(posedirs.abs().max() > 0) if posedirs.numel() else False
        """False for a body without pose-corrective blend shapes (the default body): their product is skipped."""
        self.num_joints = count
        self.num_betas = int(shapedirs.shape[-1])

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """(B, J, 3) the unposed joints of shapes betas (B, nb)."""
        return self.joint_template + torch.einsum("jcb,nb->njc", self.joint_shapedirs, betas)

    def forward(self, betas: torch.Tensor, rotations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posed joints (B, J, 3) and the subset's posed vertices (B, n, 3) of shapes betas (B, nb) and local
        joint rotations (B, J, 3, 3), root first; the root joint stays where the shape puts it."""
        batch = rotations.shape[0]
        if rotations.shape[1:] != (self.num_joints, 3, 3):
            raise ValueError(f"rotations must have shape (B, {self.num_joints}, 3, 3), got {tuple(rotations.shape)}")
        if betas.ndim != 2 or betas.shape[0] != batch or betas.shape[1] != self.num_betas:
            raise ValueError(f"betas must have shape ({batch}, {self.num_betas}), got {tuple(betas.shape)}")
        rest = self.rest_joints(betas)
        shaped = self.template + torch.einsum("vcb,nb->nvc", self.shapedirs, betas)
        if self.pose_correctives:
            eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
            feature = (rotations[:, 1:] - eye).reshape(batch, -1)
            shaped = shaped + torch.einsum("pvc,np->nvc", self.posedirs, feature)
        global_rotation, joints = global_transforms(rotations, rest, self.parents)
        offset = joints - (global_rotation @ rest.unsqueeze(-1)).squeeze(-1)  # (B, J, 3)
        blend_rotation = torch.einsum("vj,njab->nvab", self.weights, global_rotation)
        blend_offset = torch.einsum("vj,nja->nva", self.weights, offset)
        vertices = (blend_rotation @ shaped.unsqueeze(-1)).squeeze(-1) + blend_offset
        return joints, vertices
