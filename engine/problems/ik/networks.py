"""The ik problem's learned networks: MLPs over joint positions with 6D rotations inside (Zhou et al.'s
continuous representation: two columns of the matrix, completed by Gram-Schmidt).

JointNetwork with feedback is the deep feedback network of the paper's Sec. 6: it reads the joints of the current
estimate f(x_t), the target joints y and their difference, and x_t itself (6D per joint), and outputs a rotation
update per joint, R_{t+1} = R_t dR (the increment in the joint's own frame, as the problem's retract). Without
feedback it is Deep6D: target joints in, a 6D rotation per joint out. Positions enter in decimetres and their
difference in centimetres, so every input is of order one. The feedback network reads the joints in the frame of
the estimate's root rotation, so its step does not depend on which way the body faces (turning targets and
estimate together turns its result with them); Deep6D, having no estimate, reads them as they are. The last layer starts at the identity, so an
untrained network changes nothing (feedback) or answers the rest pose (regression).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ...bodies.skeleton import NUM_JOINTS
from ...rotations import rotation_from_6d, rotation_to_6d
from ..spec import bounded, check_config

POSITION_SCALE = 10.0
"""Metres to decimetres: joint positions of a body are within a few decimetres of the root."""
DIFFERENCE_SCALE = 100.0
"""Metres to centimetres: the feedback's differences shrink to centimetres after the first step."""
IDENTITY_6D = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def mlp(inputs: int, hidden: int, layers: int, start: torch.Tensor) -> nn.Sequential:
    """Linear + LeakyReLU hidden layers, then a linear layer that starts at the constant `start` (zero weights,
    bias `start`), so an untrained network answers it whatever its input."""
    widths = [inputs] + [hidden] * layers
    blocks: list[nn.Module] = []
    for cin, cout in zip(widths, widths[1:]):
        blocks += [nn.Linear(cin, cout), nn.LeakyReLU(0.1, inplace=True)]
    last = nn.Linear(hidden, start.numel())
    nn.init.zeros_(last.weight)
    with torch.no_grad():
        last.bias.copy_(start)
    return nn.Sequential(*blocks, last)


@dataclass(frozen=True)
class JointNetworkConfig:
    """Shape of a joint MLP; stored in checkpoints so they rebuild exactly."""

    feedback: bool = True
    """True: the deep feedback network (f(x_t), y, y - f(x_t), x_t in); False: Deep6D (y in)."""
    joints: int = bounded(NUM_JOINTS, 2, 64)
    hidden: int = bounded(1024, 1, 4096)
    """Width of the hidden layers (Deep6D's: 1024)."""
    layers: int = bounded(3, 1, 8)
    """Hidden layers (Deep6D's: 3)."""

    def __post_init__(self) -> None:
        check_config(self, label=str)

    @property
    def inputs(self) -> int:
        return (9 + 6) * self.joints if self.feedback else 3 * self.joints

    def to_dict(self) -> dict:
        return asdict(self)


class JointNetwork(nn.Module):
    """Linear + LeakyReLU hidden layers, then a 6D rotation per joint."""

    problem = "ik"
    architecture = "joint-mlp"
    config_class = JointNetworkConfig

    def __init__(self, config: JointNetworkConfig):
        super().__init__()
        self.config = config
        self.mlp = mlp(config.inputs, config.hidden, config.layers, torch.tensor(IDENTITY_6D).repeat(config.joints))

    def forward(self, observation: torch.Tensor, prediction: torch.Tensor | None,
                rotations: torch.Tensor | None) -> torch.Tensor:
        """Rotations (B, J, 3, 3) from target joints (B, J, 3) and, with feedback, the current estimate's joints
        (B, J, 3) and its local rotations (B, J, 3, 3)."""
        batch, joints = observation.shape[0], self.config.joints
        if observation.shape[1:] != (joints, 3):
            raise ValueError(f"the network was trained on {joints} joints, got targets of shape "
                             f"{tuple(observation.shape)}")
        if not self.config.feedback:
            return rotation_from_6d(self.mlp(POSITION_SCALE * observation.reshape(batch, -1)).reshape(batch, joints, 6))
        if prediction is None or rotations is None:
            raise ValueError("a feedback network needs the current estimate's joints and rotations")
        root = rotations[:, 0]  # row vectors times root are root^T p: the joints in the root's frame
        observation, prediction = observation @ root, prediction @ root
        local = torch.cat([torch.eye(3, device=root.device, dtype=root.dtype).expand(batch, 1, 3, 3),
                           rotations[:, 1:]], dim=1)  # in its own frame the root is the identity
        features = torch.cat([POSITION_SCALE * prediction.reshape(batch, -1),
                              POSITION_SCALE * observation.reshape(batch, -1),
                              DIFFERENCE_SCALE * (observation - prediction).reshape(batch, -1),
                              rotation_to_6d(local).reshape(batch, -1)], dim=1)
        increment = rotation_from_6d(self.mlp(features).reshape(batch, joints, 6))
        return rotations @ increment
