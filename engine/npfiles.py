"""NumPy files a user gives (.npy, .npz): read without ever unpickling, and refused with a reason in the project's
words (numpy's own messages invite an unsafe load)."""
from __future__ import annotations

import os
import zipfile

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
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise NumpyFileError("it is a single .npy array, not an .npz archive")
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
    if isinstance(error, ValueError) and "pickle" in str(error).lower():
        return "it is neither a .npy array nor an .npz archive (pickled data is never loaded)"
    if isinstance(error, OSError):
        return f"it cannot be read ({os.strerror(error.errno) if error.errno else type(error).__name__})"
    return f"it is not a NumPy array file ({type(error).__name__})"
