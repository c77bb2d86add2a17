"""NumPy files a user gives (.npy, .npz): read without ever unpickling, and refused with a reason in the project's
words (numpy's own messages invite an unsafe load)."""
from __future__ import annotations

import os
import zipfile
from typing import Callable

import numpy as np


class NumpyFileError(ValueError):
    """A .npy/.npz that cannot be read safely; the message is the reason, the caller names the file."""


def read_npy(path: str | os.PathLike) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as error:  # numpy, zip and OS errors all mean "not a file we read"
        raise NumpyFileError(reason(error)) from None
    if not isinstance(array, np.ndarray):
        raise NumpyFileError("it is an .npz archive, not a single .npy array")
    return array


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an .npz archive."""
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):  # an ndarray, which is no context manager
            raise NumpyFileError("it is a single .npy array, not an .npz archive")
        with data:
            return {key: data[key] for key in data.files}
    except NumpyFileError:
        raise
    except Exception as error:
        raise NumpyFileError(reason(error)) from None


def reason(error: Exception) -> str:
    """Why numpy could not read a file, without its advice to load pickled data."""
    if isinstance(error, zipfile.BadZipFile):
        return "it is not a readable zip archive (an .npz is one)"
    if isinstance(error, (EOFError, zipfile.LargeZipFile)) or "truncated" in str(error).lower():
        return "the file is truncated"
    if isinstance(error, ValueError) and "object arrays" in str(error).lower():
        return "it holds an array of Python objects (pickled data is never loaded)"
    if isinstance(error, ValueError) and "pickle" in str(error).lower():
        return "it is neither a .npy array nor an .npz archive (pickled data is never loaded)"
    if isinstance(error, OSError):
        return f"it cannot be read ({os.strerror(error.errno) if error.errno else type(error).__name__})"
    return f"it is not a NumPy array file ({type(error).__name__})"


def load_npy_observation(path: str, problem: str, fits: Callable[[tuple[int, ...]], bool], what: str,
                         layout: str, limits: Callable[[tuple[int, ...], str], None],
                         item_ndim: int) -> np.ndarray:
    """A problem's observation file: a .npy of (N, *item) numbers, or one item (item_ndim axes), as float32
    (N, *item); ValueError (one line: the file, what is wrong, what to do) otherwise. The header is read first,
    so that a file of the wrong shape or beyond the problem's `limits(shape, path)` is refused before its values
    are decoded; `fits(shape)` says whether a (N, *item) shape is the problem's; `what` names the values
    ('target joints') and `layout` their shape and unit ('(N, 24, 3) in metres')."""
    if not path.lower().endswith(".npy"):
        raise ValueError(f"{path}: {problem} observations are .npy arrays of {what} {layout}")
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such observation file; make one with `feedbacklab render {problem} --out "
                         f"{path}`")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)  # the header only, until the shape is checked
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path}: not a NumPy .npy array: {reason(error)}") from None
    if array.ndim == item_ndim:
        array = array[None]
    if not fits(tuple(array.shape)) or array.dtype.kind not in "iuf":
        raise ValueError(f"{path}: expected {what} of shape {layout}, got {array.dtype} {array.shape}")
    limits(tuple(array.shape), path)
    array = np.array(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{path}: the {what} contain NaN or infinite values")
    return array


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """A float32 .npy without pickles (observations the problems read back with load_npy_observation)."""
    np.save(path, np.asarray(array, dtype=np.float32), allow_pickle=False)
