import io
import os
import pickle
import struct
import sys
import types

import numpy as np
import pytest
import scipy.sparse
import torch

from engine.bodies.model import DEFAULT_BODY, load_body
from engine.bodies.pickle_loader import ModelFileError, load_model_arrays


@pytest.fixture
def fake_chumpy(monkeypatch):
    """A module named chumpy.ch with a Ch class pickled the way chumpy's is (state dict with 'x')."""
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = np.asarray(x)
            self.label = "kept out"

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    module.Ch = Ch
    package.ch = module
    monkeypatch.setitem(sys.modules, "chumpy", package)
    monkeypatch.setitem(sys.modules, "chumpy.ch", module)
    return Ch


class _Payload:
    def __reduce__(self):
        return os.system, ("echo pwned > should-not-exist",)


def _smpl_like(chumpy_class) -> dict:
    """The default body as an official SMPL pickle would hold it: chumpy shapedirs, sparse J_regressor, no
    landmark arrays (its 6890 vertices then use smplx's own SMPL landmark ids)."""
    with np.load(DEFAULT_BODY) as data:
        arrays = {k: data[k] for k in ("v_template", "f", "posedirs", "weights", "kintree_table")}
        arrays["shapedirs"] = chumpy_class(data["shapedirs"])
        arrays["J_regressor"] = scipy.sparse.csc_matrix(data["J_regressor"])
    arrays["bs_style"] = "lbs"
    return arrays


class _Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 str (BINSTRING) and module names as Python 2 has them, like the official files."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            header = pickle.SHORT_BINSTRING + bytes([len(obj)])
        else:
            header = pickle.BINSTRING + struct.pack("<i", len(obj))
        self.write(header + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_str


def _python2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2, fix_imports=True).dump(obj)
    return buffer.getvalue()


class TestRestrictedUnpickler:
    def test_python2_pickle(self, tmp_path, fake_chumpy):
        path = tmp_path / "SMPL_NEUTRAL.pkl"
        content = _python2_pickle(_smpl_like(fake_chumpy))
        assert b"_codecs" not in content  # arrays hold raw str data, decoded as latin-1
        path.write_bytes(content)
        arrays = load_model_arrays(path)
        with np.load(DEFAULT_BODY) as data:
            np.testing.assert_array_equal(arrays["v_template"], data["v_template"])
            np.testing.assert_array_equal(arrays["shapedirs"], data["shapedirs"])

    def test_chumpy_and_sparse_become_arrays(self, tmp_path, fake_chumpy):
        path = tmp_path / "SMPL_NEUTRAL.pkl"
        path.write_bytes(pickle.dumps(_smpl_like(fake_chumpy), protocol=2))
        arrays = load_model_arrays(path)
        with np.load(DEFAULT_BODY) as data:
            np.testing.assert_array_equal(arrays["shapedirs"], data["shapedirs"])
            np.testing.assert_allclose(arrays["J_regressor"], data["J_regressor"])
        assert type(arrays["shapedirs"]) is np.ndarray and arrays["bs_style"] == "lbs"

    def test_official_style_pickle_builds_smpl(self, tmp_path, fake_chumpy):
        path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
        path.write_bytes(pickle.dumps(_smpl_like(fake_chumpy), protocol=2))
        body = load_body(path, model_type="smpl")
        torch.testing.assert_close(body().vertices, load_body()().vertices, atol=1e-5, rtol=0)

    def test_code_execution_is_refused(self, tmp_path):
        path = tmp_path / "evil.pkl"
        path.write_bytes(pickle.dumps({"v_template": _Payload()}))
        with pytest.raises(ModelFileError, match=r"refused to load (posix|nt)\.system"):
            load_model_arrays(path)
        assert not (tmp_path / "should-not-exist").exists() and not os.path.exists("should-not-exist")

    @pytest.mark.parametrize("payload", [eval, getattr, types.SimpleNamespace])
    def test_other_classes_are_refused(self, tmp_path, payload):
        path = tmp_path / "model.pkl"
        path.write_bytes(pickle.dumps({"f": payload}))
        with pytest.raises(ModelFileError, match="refused to load"):
            load_model_arrays(path)

    def test_object_arrays_in_npz_are_restricted_too(self, tmp_path):
        path = tmp_path / "model.npz"
        np.savez(path, weights=np.zeros((2, 3)), meta=np.array([{"a": 1}], dtype=object),
                 evil=np.array([_Payload()], dtype=object))
        with pytest.raises(ModelFileError, match="refused to load"):
            load_model_arrays(path)
        np.savez(path, weights=np.zeros((2, 3)), meta=np.array([{"a": 1}], dtype=object))
        arrays = load_model_arrays(path)
        assert arrays["weights"].shape == (2, 3) and arrays["meta"][0] == {"a": 1}

    @pytest.mark.parametrize("content, message", [
        (b"not a pickle", "not a readable model pickle"),
        (pickle.dumps([1, 2, 3]), "holds a list"),
    ])
    def test_bad_pickles(self, tmp_path, content, message):
        path = tmp_path / "model.pkl"
        path.write_bytes(content)
        with pytest.raises(ModelFileError, match=message):
            load_model_arrays(path)

    def test_bad_npz(self, tmp_path):
        path = tmp_path / "model.npz"
        path.write_bytes(b"PK not really")
        with pytest.raises(ModelFileError, match="not a readable .npz"):
            load_model_arrays(path)
