"""The AR/VR device of the body-hmd problem (learning-to-fit, Sec. 3.2): what it reports of a body, and the flat
layout of one observation item.

Signals, in the world frame (metres, +y up; the floor is y = 0):
- the headset's pose: the head joint's world transform times a fixed offset, HEADSET_OFFSET metres in the head
  joint's frame (5 cm up and 14 cm forward: in front of the eyes of the shipped body) with the head's orientation.
  Headset frame: +x the wearer's left, +y up, +z the way the headset looks (SMPL's body frame carried by the head;
  not a camera's -z);
- each wrist's pose: the wrist joint's world position and global rotation;
- the five fingertips of each hand (thumb, index, middle, ring, pinky): smplx's fingertip landmark vertices;
- each hand's visibility flag (1 visible, 0 not); an invisible hand's wrist pose and fingertips are zeros.
  Visibility 'full': both hands always visible; 'half-space' (half_space): a hand is visible only while its wrist
  is in front of the headset's plane, z > 0 in the headset frame;
- the body's shape (10 betas): known, as the paper assumes, and carried with the signals so that an observation
  file is complete and every energy reads x and the observation alone.

Observation item (OBSERVATION_SIZE = 78 numbers, FIELDS' order): headset position (3), headset rotation (9, the
3x3 matrix row by row), left wrist position (3) and rotation (9), right wrist position (3) and rotation (9), left
fingertips (5 x 3), right fingertips (5 x 3), visibility flags (left, right), betas (10).

Sensor noise (optional, per item, drawn once from the config's noise_seed): every position N(0, noise_mm^2) per
coordinate; every rotation turned in its own frame by a rotation vector N(0, noise_deg^2) per component.
"""
from __future__ import annotations

from itertools import accumulate
from typing import NamedTuple

import torch

from ...rotations import axis_angle_to_matrix

HEADSET_OFFSET = (0.0, 0.05, 0.14)
"""Metres from the head joint to the headset, in the head joint's frame (+y up, +z forward)."""
HEAD, LEFT_WRIST, RIGHT_WRIST = 15, 20, 21
"""SMPL+H joint indices."""
FINGERTIPS = ("thumb", "index", "middle", "ring", "pinky")
NUM_BETAS = 10
FIELDS = (("headset_position", 3), ("headset_rotation", 9), ("left_wrist_position", 3), ("left_wrist_rotation", 9),
          ("right_wrist_position", 3), ("right_wrist_rotation", 9), ("left_fingertips", 15),
          ("right_fingertips", 15), ("visible", 2), ("betas", NUM_BETAS))
OBSERVATION_SIZE = sum(size for _, size in FIELDS)
SLICES = {name: slice(end - size, end) for (name, size), end in zip(FIELDS, accumulate(s for _, s in FIELDS))}
"""Each field's numbers in an observation item."""
SIDES = ("left", "right")
POSITIONS = 13
"""Points with a position: the headset, two wrists, ten fingertips (the noise's order)."""
ROTATIONS = 3
"""Poses with a rotation: the headset, the left wrist, the right wrist."""


class Signals(NamedTuple):
    """One batch of the device's signals, unpacked."""

    headset_position: torch.Tensor
    """(B, 3) metres."""
    headset_rotation: torch.Tensor
    """(B, 3, 3) headset to world."""
    wrist_positions: torch.Tensor
    """(B, 2, 3) left, right."""
    wrist_rotations: torch.Tensor
    """(B, 2, 3, 3)."""
    fingertips: torch.Tensor
    """(B, 2, 5, 3) left hand's, right hand's."""
    visible: torch.Tensor
    """(B, 2) 1 or 0."""
    betas: torch.Tensor
    """(B, 10)."""


def unpack(observation: torch.Tensor) -> Signals:
    """The signals of observations (B, 78)."""
    def field(name: str) -> torch.Tensor:
        return observation[:, SLICES[name]]

    batch = len(observation)
    return Signals(
        field("headset_position"), field("headset_rotation").reshape(batch, 3, 3),
        torch.stack([field("left_wrist_position"), field("right_wrist_position")], 1),
        torch.stack([field("left_wrist_rotation"), field("right_wrist_rotation")], 1).reshape(batch, 2, 3, 3),
        torch.stack([field("left_fingertips"), field("right_fingertips")], 1).reshape(batch, 2, 5, 3),
        field("visible"), field("betas"))


def pack(signals: Signals) -> torch.Tensor:
    """(B, 78) observations of signals; an invisible hand's fields are zeroed."""
    batch = len(signals.headset_position)
    shown = signals.visible[..., None]
    wrists = signals.wrist_positions * shown
    rotations = signals.wrist_rotations.flatten(2) * shown
    tips = signals.fingertips.flatten(2) * shown
    return torch.cat([signals.headset_position, signals.headset_rotation.reshape(batch, 9),
                      wrists[:, 0], rotations[:, 0], wrists[:, 1], rotations[:, 1], tips[:, 0], tips[:, 1],
                      signals.visible, signals.betas], dim=1)


def body_signals(global_rotation: torch.Tensor, joints: torch.Tensor, fingertips: torch.Tensor,
                 betas: torch.Tensor) -> Signals:
    """The signals of posed bodies, all hands visible: joints' global rotations (B, 52, 3, 3), world joints
    (B, 52, 3), world fingertip vertices (B, 10, 3) (left thumb .. pinky, right thumb .. pinky), betas (B, 10)."""
    head = global_rotation[:, HEAD]
    offset = torch.tensor(HEADSET_OFFSET, dtype=joints.dtype, device=joints.device)
    wrists = [LEFT_WRIST, RIGHT_WRIST]
    return Signals(joints[:, HEAD] + head @ offset, head, joints[:, wrists], global_rotation[:, wrists],
                   fingertips.reshape(-1, 2, 5, 3), joints.new_ones(len(joints), 2), betas)


def in_front(signals: Signals) -> torch.Tensor:
    """(B, 2) 1 where a wrist is in front of the headset's plane (z > 0 in the headset frame), else 0."""
    relative = signals.wrist_positions - signals.headset_position[:, None]
    depth = (relative[..., None, :] @ signals.headset_rotation[:, None, :, 2:]).reshape(-1, 2)
    return (depth > 0).to(relative)


def half_space(observation: torch.Tensor) -> torch.Tensor:
    """Observations (B, 78) as the half-space device reports them: a hand whose wrist is behind the headset's
    plane becomes invisible (flag 0, its fields zeros)."""
    signals = unpack(observation)
    return pack(signals._replace(visible=signals.visible * in_front(signals)))


class Noise(NamedTuple):
    """The sensor noise of each item, drawn once."""

    positions: torch.Tensor
    """(B, 13, 3) metres: headset, left wrist, right wrist, then the ten fingertips."""
    rotations: torch.Tensor
    """(B, 3, 3) rotation vectors: headset, left wrist, right wrist, each applied in its own frame."""

    def subset(self, index: torch.Tensor) -> "Noise":
        index = index.to(self.positions.device)
        return Noise(self.positions[index], self.rotations[index])


def draw_noise(count: int, noise_mm: float, noise_deg: float, generator: torch.Generator) -> Noise:
    positions = torch.randn(count, POSITIONS, 3, generator=generator) * noise_mm / 1000.0
    rotations = torch.deg2rad(torch.randn(count, ROTATIONS, 3, generator=generator) * noise_deg)
    return Noise(positions, rotations)


def noisy(signals: Signals, noise: Noise) -> Signals:
    """The signals with the sensor noise added."""
    positions, turns = noise.positions.to(signals.betas), axis_angle_to_matrix(noise.rotations.to(signals.betas))
    return signals._replace(
        headset_position=signals.headset_position + positions[:, 0],
        headset_rotation=signals.headset_rotation @ turns[:, 0],
        wrist_positions=signals.wrist_positions + positions[:, 1:3],
        wrist_rotations=signals.wrist_rotations @ turns[:, 1:],
        fingertips=signals.fingertips + positions[:, 3:].reshape(-1, 2, 5, 3))
