"""Reads SMPL-family model files (.pkl, .npz) into plain numpy arrays, without chumpy and without running code.

The official SMPL / SMPL-H / MANO pickles are Python 2 pickles holding numpy arrays, scipy sparse matrices and
chumpy objects; chumpy no longer imports on current numpy. A pickle can name any importable callable, so a
model file is read with an unpickler that resolves only the few classes such files contain: numpy arrays,
dtypes and scalars, scipy's csc/csr matrices and chumpy objects, the last two replaced by stand-ins that only
keep their state (a chumpy object's value is its 'x' array). Anything else is refused.
"""
from __future__ import annotations

import codecs
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from ..npfiles import reason

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray


class ModelFileError(ValueError):
    """A body model file that cannot be used; the message names it and says what is wrong."""


class _Refused(pickle.UnpicklingError):
    """A class a model file may not name."""


class _StateOnly:
    """Stand-in for a pickled object whose state is all we need; never runs the original class's code."""

    def __init__(self, *args: Any) -> None:
        self.state: Any = args

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _Chumpy(_StateOnly):
    """A chumpy object: its value is state['x']."""


class _Sparse(_StateOnly):
    """A scipy csc/csr matrix: state holds data, indices, indptr and the shape."""


_NUMPY_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray", "numpy")
_ALLOWED = {
    **{(module, "_reconstruct"): _multiarray._reconstruct for module in _NUMPY_MODULES},
    **{(module, "scalar"): _multiarray.scalar for module in _NUMPY_MODULES},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("builtins", "object"): object,
    ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles written by Python 3 store bytes
}
_SPARSE_CLASSES = ("csc_matrix", "csr_matrix")


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """copyreg._reconstructor (how Python 2 pickles objects), restricted to the stand-ins."""
    if not (isinstance(cls, type) and issubclass(cls, _StateOnly)) or base is not object:
        raise _Refused(f"refused to rebuild {getattr(cls, '__name__', cls)!r}")
    return cls.__new__(cls)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, scipy csc/csr matrices and chumpy objects (as stand-ins); refuses all else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("copyreg", "_reconstructor"):
            return _reconstructor
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "chumpy" or module.startswith("chumpy."):
            return _Chumpy
        if module.startswith("scipy.sparse") and name in _SPARSE_CLASSES:
            return _Sparse
        raise _Refused(
            f"refused to load {module}.{name}: body model files may only hold numpy arrays, scipy sparse "
            "matrices and chumpy arrays"
        )


def _plain(value: Any, key: str) -> Any:
    """Stand-ins replaced by numpy arrays, recursively."""
    if isinstance(value, _Chumpy):
        state = value.state if isinstance(value.state, dict) else {}
        if "x" not in state:
            raise ModelFileError(f"{key!r} is a chumpy expression, not a chumpy array; only arrays are supported")
        return np.asarray(state["x"])
    if isinstance(value, _Sparse):
        state = value.state if isinstance(value.state, dict) else {}
        try:
            shape = state.get("_shape") or state["shape"]
            cls = scipy.sparse.csc_matrix if state.get("format", "csc") == "csc" else scipy.sparse.csr_matrix
            return cls((state["data"], state["indices"], state["indptr"]), shape=shape).toarray()
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(f"{key!r} is a sparse matrix that could not be read ({type(error).__name__})") from None
    if isinstance(value, dict):
        return {k: _plain(v, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, key) for v in value)
    return value


def _load_pickle(path: Path) -> dict:
    with open(path, "rb") as file:
        try:
            data = RestrictedUnpickler(file, encoding="latin1").load()
        except _Refused as error:
            raise ModelFileError(f"{path.name!r}: {error}") from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
            raise ModelFileError(f"{path.name!r} is not a readable model pickle ({type(error).__name__}); the file is "
                                 "damaged or not a body model") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{path.name!r} holds a {type(data).__name__}, not a dictionary of model arrays")
    return _plain(data, "")


def _load_npz(path: Path) -> dict:
    """Every array of an .npz; object arrays (pickled inside the .npy) go through RestrictedUnpickler."""
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as file:
                    version = np.lib.format.read_magic(file)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, fortran, dtype = read_header(file)
                    if dtype.hasobject:
                        value = _plain(RestrictedUnpickler(file, encoding="latin1").load(), member[:-4])
                    else:
                        data = np.frombuffer(file.read(), dtype=dtype).copy()
                        value = data.reshape(shape, order="F" if fortran else "C")
                arrays[member[:-4]] = value
    except _Refused as error:
        raise ModelFileError(f"{path.name!r}: {error}") from None
    except (zipfile.BadZipFile, pickle.UnpicklingError, ValueError, EOFError) as error:
        raise ModelFileError(f"{path.name!r} is not a readable .npz archive: {reason(error)}") from None
    return arrays


def load_model_arrays(path: str | Path) -> dict[str, Any]:
    """The contents of a SMPL-family .pkl or .npz as a dict of numpy arrays (and plain Python values)."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"body model file {str(path)!r} does not exist; check the path")
    if path.is_dir():
        raise ModelFileError(f"{str(path)!r} is a directory; pass the model file itself (e.g. SMPL_NEUTRAL.pkl)")
    suffix = path.suffix.lower()
    if suffix == ".pkl":
        return _load_pickle(path)
    if suffix == ".npz":
        return _load_npz(path)
    raise ModelFileError(f"body model file {path.name!r} must be a .pkl or .npz file")
