import numpy as np
import pytest
import torch

from engine.compare import run_comparison
from engine.problems.pose6d import Pose6DConfig, Pose6DProblem
from engine.procedural import default_mesh
from engine.trace import Comparison, TraceError


@pytest.fixture(scope="module")
def comparison():
    problem = Pose6DProblem.for_meshes(default_mesh(), 2, Pose6DConfig(image_size=48))
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(3))
    return run_comparison(problem, "pose6d", problem.render(truth), ["nmr", "softras"], ground_truth=truth,
                          solver_options={"max_iterations": 12}, meta={"mesh": "car"})


def test_traces_hold_every_iteration(comparison):
    trace = comparison.traces["nmr"]
    assert trace.num_iterations == 13 and trace.batch_size == 2
    assert trace.x.shape == (13, 2, 7) and trace.energy.shape == (13, 2)
    assert trace.renderings.shape == (13, 2, 48, 48) and trace.renderings.dtype == np.uint8
    assert set(trace.metrics) == {"iou", "translation_error", "rotation_error_deg", "outlier"}
    assert trace.steps().tolist() == [12, 12]
    assert np.allclose(trace.x[1:] - trace.x[:-1], trace.update[1:], atol=1e-6)
    assert trace.seconds_per_item().sum() == pytest.approx(trace.step_seconds.sum())
    assert trace.at(100).tolist() == [12, 12]


def test_save_and_load_round_trip(comparison, tmp_path):
    path = tmp_path / "run.npz"
    comparison.save(path)
    loaded = Comparison.load(path)
    assert list(loaded.traces) == ["nmr", "softras"]
    assert loaded.meta == {"mesh": "car"} and loaded.parameter_names == comparison.parameter_names
    for name, trace in comparison.traces.items():
        other = loaded.traces[name]
        assert np.array_equal(trace.x, other.x) and np.array_equal(trace.renderings, other.renderings)
        assert np.array_equal(trace.metrics["outlier"], other.metrics["outlier"])
        assert other.settings["rasterizer"] == name
    assert np.array_equal(loaded.ground_truth, comparison.ground_truth)


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_bad_files_give_one_line_errors(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(TraceError, match="bad.npz: not a feedbacklab trace"):
        Comparison.load(path)


def test_foreign_npz_and_missing_file(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(TraceError, match="other.npz"):
        Comparison.load(tmp_path / "other.npz")
    with pytest.raises(TraceError, match="no such trace file"):
        Comparison.load(tmp_path / "missing.npz")


def test_attachments_round_trip(tmp_path):
    comparison = Comparison("pose6d", np.zeros((1, 4, 4), np.float32), np.zeros((1, 7), np.float32), {},
                            attachments={"mesh_faces": np.arange(6).reshape(2, 3)})
    comparison.save(tmp_path / "c.npz")
    loaded = Comparison.load(tmp_path / "c.npz")
    assert np.array_equal(loaded.attachments["mesh_faces"], np.arange(6).reshape(2, 3)) and loaded.traces == {}
