"""Observation files of named points, K per item with C numbers each (body-keypoints' keypoints, face-landmarks'
landmarks), in three forms, NOUN being the problem's name for a point ('keypoint', 'landmark'):

- .npy: a float array (N, K, C), or (K, C) for one item;
- .npz: an array named "NOUNs" of that shape (other arrays are ignored);
- .json: {"NOUNs": [[...C numbers], ... K]} for one item, or {"NOUNs": [[[...], ...], ...]} for N; an optional
  "NOUN_names" list must then equal the problem's names of the points.

Every reader refuses a file of another shape, with NaN or infinite values or beyond the problem's limits with one
line naming the file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from ..npfiles import NumpyFileError, load_npy_observation, read_npz, save_npy
from .body_shared import read_json
from .spec import ArraySpec

EXTENSIONS = (".npy", ".npz", ".json")


@dataclass(frozen=True)
class PointFiles:
    """One problem's point files."""

    problem: str
    noun: str
    names: tuple[str, ...]
    channels: int
    layout: str
    """The shape and meaning of the numbers, for messages: '(N, 35, 3): u, v in crop coordinates ...'."""
    spec: ArraySpec

    @property
    def key(self) -> str:
        return f"{self.noun}s"

    def load(self, path: str) -> np.ndarray:
        """(N, K, C) float32 points of a file (module docstring); ValueError with one line."""
        if path.lower().endswith(".json"):
            return self._load_json(path)
        if path.lower().endswith(".npz"):
            return self._load_npz(path)
        return load_npy_observation(path, self.problem, lambda shape: len(shape) == 3 and shape[1:] == (
            len(self.names), self.channels), self.key, self.layout, self.spec.check_limits, 2)

    def _load_json(self, path: str) -> np.ndarray:
        content = read_json(path, f"no such {self.noun} file")
        if not isinstance(content, dict) or self.key not in content:
            raise ValueError(f"{path}: expected a JSON object with a \"{self.key}\" list of {self.layout}")
        names = content.get(f"{self.noun}_names")
        if names is not None and list(names) != list(self.names):
            raise ValueError(f"{path}: its {self.noun}_names are not this problem's {len(self.names)} {self.key} "
                             f"({', '.join(self.names[:3])}, ...)")
        return self._checked(path, content[self.key])

    def _load_npz(self, path: str) -> np.ndarray:
        if not os.path.isfile(path):
            raise ValueError(f"{path}: no such {self.noun} file")
        try:
            arrays = read_npz(path)
        except NumpyFileError as error:
            raise ValueError(f"{path}: {error}") from None
        if self.key not in arrays:
            raise ValueError(f"{path}: no array named \"{self.key}\" of shape {self.layout}")
        return self._checked(path, arrays[self.key])

    def _checked(self, path: str, values) -> np.ndarray:
        """(N, K, C) float32 of an item or a sequence of them; ValueError (one line) for any other shape or NaN."""
        try:
            array = np.asarray(values, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: \"{self.key}\" must be numbers of shape {self.layout}") from None
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[1:] != (len(self.names), self.channels):
            raise ValueError(f"{path}: \"{self.key}\" has shape {array.shape}, expected {self.layout}")
        self.spec.check_limits(array.shape, path)
        if not np.isfinite(array).all():
            raise ValueError(f"{path}: the {self.key} contain NaN or infinite values")
        return array

    def save(self, path: str, array: np.ndarray) -> None:
        """Writes (N, K, C) points as .json (with the points' names), .npz or .npy."""
        if path.lower().endswith(".npz"):
            np.savez(path, **{self.key: np.asarray(array, dtype=np.float32)})
        elif path.lower().endswith(".json"):
            with open(path, "w", encoding="utf-8") as file:
                json.dump({f"{self.noun}_names": list(self.names),
                           self.key: np.round(np.asarray(array, dtype=np.float64), 6).tolist()}, file)
        else:
            save_npy(path, array)
