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


def nearest_pairs(points: torch.Tensor, neighbours: int) -> torch.Tensor:
    """(E, 2) the distinct pairs of points (N, 3) that join each point to its `neighbours` nearest: edges of a
    vertex subset (a mesh's own edges rarely join two vertices of a sparse subset)."""
    nearest = torch.cdist(points, points).topk(neighbours + 1, largest=False).indices[:, 1:]
    pairs = torch.stack([torch.arange(len(points)).repeat_interleave(neighbours), nearest.flatten()], 1)
    return torch.unique(pairs.sort(dim=1).values, dim=0)


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


def blend_skinning(vertices: torch.Tensor, weights: torch.Tensor, global_rotation: torch.Tensor,
                   joints: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """Linear blend skinning: rest vertices (B, V, 3) with weights (V, J), each joint turned by its global rotation
    (B, J, 3, 3) about its rest position (B, J, 3) and moved to its posed position (B, J, 3)."""
    offset = joints - (global_rotation @ rest_joints.unsqueeze(-1)).squeeze(-1)  # (B, J, 3)
    blend_rotation = torch.einsum("vj,njab->nvab", weights, global_rotation)
    blend_offset = torch.einsum("vj,nja->nva", weights, offset)
    return (blend_rotation @ vertices.unsqueeze(-1)).squeeze(-1) + blend_offset


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
        return self.posed(betas, rotations)[1:]

    def posed(self, betas: torch.Tensor, rotations: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """forward's joints and vertices after the joints' global rotations (B, J, 3, 3)."""
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
        return global_rotation, joints, blend_skinning(shaped, self.weights, global_rotation, joints, rest)

    def linearized(self, betas: torch.Tensor, rotations: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The posed joints and subset vertices, stacked (B, J + n, 3), and their derivatives with respect to a
        right increment w_j of each joint's local rotation (R_j exp(w_j)), (B, J + n, 3, J, 3), and to the betas,
        (B, J + n, 3, nb): the analytic Jacobians for Gauss-Newton and LM, one pass, no autodiff.

        Turning joint j by w turns everything it carries about its joint p_j by G_j w: a point moves by
        (G_j w) x u, u = p_k - p_j for a joint k below j, and for a vertex the weighted sum over the joints i at or
        below j of (its position under joint i's transform - p_j). The betas move the rest joints and vertices
        linearly; a posed joint follows its chain, a vertex each transform it is skinned by. Bodies with
        pose-corrective blend shapes are not linearised here (ValueError): their correctives move vertices too."""
        if self.pose_correctives:
            raise ValueError("analytic skinning Jacobians ignore pose-corrective blend shapes; use autodiff")
        batch, count = rotations.shape[:2]
        rest = self.rest_joints(betas)
        shaped = self.template + torch.einsum("vcb,nb->nvc", self.shapedirs, betas)
        global_rotation, joints = global_transforms(rotations, rest, self.parents)
        # each vertex under each joint's transform, weighted: (B, n, J, 3)
        moved = torch.einsum("njab,nvjb->nvja", global_rotation, shaped[:, :, None] - rest[:, None]) + joints[:, None]
        weighted = self.weights[None, :, :, None] * moved
        vertices = weighted.sum(2)
        carried = self._carried(rotations.device, rotations.dtype)  # (J, J): [j, i] = i at or below j
        strictly_below = carried - torch.eye(count, dtype=carried.dtype, device=carried.device)
        joint_arms = strictly_below.t()[None, :, :, None] * (joints[:, :, None] - joints[:, None])  # (B, J, J, 3)
        vertex_arms = (torch.einsum("ji,nvic->nvjc", carried, weighted)
                       - (self.weights @ carried.t())[None, :, :, None] * joints[:, None])
        arms = torch.cat([joint_arms, vertex_arms], dim=1)  # (B, N, J, 3)
        axes = global_rotation.transpose(-1, -2)[:, None]  # (B, 1, J, c, 3): column c of G_j
        rotation_jacobian = torch.cross(*torch.broadcast_tensors(axes, arms[:, :, :, None]), dim=-1).permute(0, 1, 4, 2, 3)
        joint_betas = self._chain_betas(global_rotation)  # (B, J, 3, nb)
        vertex_betas = (torch.einsum("vj,njab,vbk->nvak", self.weights, global_rotation, self.shapedirs)
                        + torch.einsum("vj,njak->nvak", self.weights,
                                       joint_betas - global_rotation @ self.joint_shapedirs))
        return (torch.cat([joints, vertices], 1), rotation_jacobian,
                torch.cat([joint_betas, vertex_betas], 1))

    def _carried(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """(J, J): entry [j, i] is 1 when joint i is j or below it."""
        count = len(self.parents)
        carried = torch.eye(count)
        for joints, parents in depth_levels(self.parents)[1:]:
            for joint, parent in zip(joints, parents):
                carried[:, joint] += carried[:, parent]
        return carried.clamp(max=1).to(device, dtype)

    def _chain_betas(self, global_rotation: torch.Tensor) -> torch.Tensor:
        """(B, J, 3, nb) d posed joints / d betas: the root's rest joint, then each bone's shape change turned by
        its parent's global rotation, down the chain."""
        batch = global_rotation.shape[0]
        derivative: list[torch.Tensor] = [torch.empty(0)] * len(self.parents)
        shapedirs = self.joint_shapedirs
        for joints, parents in depth_levels(self.parents):
            for joint, parent in zip(joints, parents):
                if parent < 0:
                    derivative[joint] = shapedirs[joint].expand(batch, -1, -1)
                else:
                    derivative[joint] = derivative[parent] + global_rotation[:, parent] @ (shapedirs[joint]
                                                                                           - shapedirs[parent])
        return torch.stack(derivative, 1)
