"""Face model files that cannot be used end in one line naming the file, what is wrong and what to do."""
import numpy as np
import pytest
import torch

from engine.faces.model import DEFAULT_FACE, FILE_ARRAYS, FaceModelError, load_face


@pytest.fixture(scope="module")
def arrays():
    with np.load(DEFAULT_FACE) as shipped:
        return {name: shipped[name] for name in shipped.files}


def _write(tmp_path, arrays, **changes):
    path = tmp_path / "face.npz"
    np.savez(path, **{name: value for name, value in {**arrays, **changes}.items() if value is not None})
    return path


def _refused(path, message):
    with pytest.raises(FaceModelError) as error:
        load_face(path)
    text = str(error.value)
    assert message in text and "\n" not in text, text
    return text


def test_a_copy_loads_in_float64(tmp_path, arrays):
    face = load_face(_write(tmp_path, arrays), dtype=torch.float64)
    assert face.name == "face.npz" and face.rest_vertices.dtype == torch.float64
    assert face().vertices.dtype == torch.float64


def test_missing_file(tmp_path):
    text = _refused(tmp_path / "none.npz", "does not exist")
    assert "none.npz" in text and "check the path" in text


def test_directory(tmp_path):
    _refused(tmp_path, "is not a file")


def test_not_an_npz(tmp_path):
    path = tmp_path / "face.npz"
    path.write_text("not a zip archive")
    text = _refused(path, "cannot be read: it is neither")
    assert "face.npz" in text and "convert_anny_face.py" in text


def test_single_npy_array(tmp_path):
    path = tmp_path / "face.npy"
    np.save(path, np.zeros(3))
    _refused(path, "a single .npy array")


def test_pickled_objects_are_never_loaded(tmp_path, arrays):
    _refused(_write(tmp_path, arrays, expression_names=np.array([object()] * 52, dtype=object)), "Python objects")


@pytest.mark.parametrize("name", list(FILE_ARRAYS))
def test_missing_array(tmp_path, arrays, name):
    _refused(_write(tmp_path, arrays, **{name: None}), f"has no {name!r} array")


@pytest.mark.parametrize("name, value, message", [
    ("identity_basis", np.zeros((30, 10, 3), np.float32),
     "'identity_basis' array has shape (30, 10, 3), not (I, V, 3)"),
    ("weights", np.zeros((4570, 3), np.float32), "'weights' array has shape (4570, 3)"),
    ("expression_names", np.array(["jawOpen"] * 3), "'expression_names' array has shape (3,)"),
    ("joints", np.zeros(12, np.float32), "'joints' array has shape (12,)"),
    ("landmark_vertices", np.zeros((68, 2), np.int32), "'landmark_vertices' array has shape (68, 2)"),
    ("faces", np.zeros((10, 3), np.float32), "'faces' array holds float32 values, not integers"),
    ("expression_names", np.arange(52), "'expression_names' array holds int64 values, not text"),
])
def test_wrong_shape_or_kind(tmp_path, arrays, name, value, message):
    _refused(_write(tmp_path, arrays, **{name: value}), message)


def test_nan(tmp_path, arrays):
    basis = arrays["expression_basis"].copy()
    basis[3, 7, 1] = np.nan
    _refused(_write(tmp_path, arrays, expression_basis=basis), "'expression_basis' array holds NaN or infinite")


@pytest.mark.parametrize("name", ["faces", "landmark_vertices", "face_region"])
def test_vertex_ids_out_of_range(tmp_path, arrays, name):
    ids = arrays[name].copy()
    ids.flat[0] = len(arrays["vertices"])
    _refused(_write(tmp_path, arrays, **{name: ids}), f"'{name}' array holds vertex ids outside")


def test_wrong_skeleton(tmp_path, arrays):
    _refused(_write(tmp_path, arrays, joint_parents=np.array([-1, 0, 0, 0], np.int32)), "its joints must be neck")


def test_weights_not_normalised(tmp_path, arrays):
    _refused(_write(tmp_path, arrays, weights=2 * arrays["weights"]), "sum to 1 per vertex")


def test_repeated_expression_name(tmp_path, arrays):
    names = arrays["expression_names"].copy()
    names[1] = names[0]
    _refused(_write(tmp_path, arrays, expression_names=names), "'expression_names' repeat a name")
