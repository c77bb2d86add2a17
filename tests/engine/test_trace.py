import numpy as np
import pytest
import torch

from engine.compare import run_comparison
from engine.problems.pose6d import SPEC, Pose6DConfig, Pose6DProblem
from engine.procedural import default_mesh
from engine.trace import Comparison, Trace, TraceError


@pytest.fixture(scope="module")
def comparison():
    problem = Pose6DProblem.for_meshes(default_mesh(), 2, Pose6DConfig(image_size=48))
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(3))
    return run_comparison(SPEC, problem, problem.forward(truth), ["nmr", "softras"], ground_truth=truth,
                          solver_options={"max_iterations": 12}, meta={"mesh": "car"})


def test_traces_hold_every_iteration(comparison):
    trace = comparison.traces["nmr"]
    assert trace.num_iterations == 13 and trace.batch_size == 2
    assert trace.x.shape == (13, 2, 7) and trace.energy.shape == (13, 2)
    assert trace.predictions.shape == (13, 2, 48, 48) and trace.predictions.dtype == np.uint8
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
        assert np.array_equal(trace.x, other.x) and np.array_equal(trace.predictions, other.predictions)
        assert np.array_equal(trace.metrics["outlier"], other.metrics["outlier"])
        assert other.settings["forward_options"]["rasterizer"] == name
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


def test_float_predictions_are_stored_exactly(tmp_path):
    from engine.problems.spec import ArraySpec
    from engine.solvers.base import Iteration

    values = torch.randn(3, 2, 24, 3) * 1e-3 + 5.0  # uint8 quantization would destroy these
    records = [Iteration(t, torch.zeros(2, 72), values[t], torch.ones(2), torch.zeros(2, 72), 0.1 * t, 0.1,
                         torch.ones(2, dtype=torch.bool), torch.zeros(2, dtype=torch.long)) for t in range(3)]
    trace = Trace.collect("toy", records, ArraySpec((24, 3), "joints"))
    assert trace.predictions.dtype == np.float32
    Comparison("ik", values[0].numpy(), np.zeros((2, 72)), {"toy": trace}).save(tmp_path / "t.npz")
    loaded = Comparison.load(tmp_path / "t.npz").traces["toy"]
    assert np.array_equal(loaded.prediction(2, 1), values[2, 1].numpy())


def test_version_1_files_still_load(tmp_path, comparison):
    """A pose6d trace as the first format wrote it: 'renderings', no config, no info."""
    import json

    trace = comparison.traces["nmr"]
    arrays = {"observation": comparison.observation, "x0": comparison.x0, "ground_truth": comparison.ground_truth,
              "trace0.x": trace.x, "trace0.energy": trace.energy, "trace0.update": trace.update,
              "trace0.elapsed": trace.elapsed, "trace0.step_seconds": trace.step_seconds,
              "trace0.computed": trace.computed, "trace0.status": trace.status, "trace0.renderings": trace.predictions,
              **{f"trace0.metric.{k}": v for k, v in trace.metrics.items()}}
    meta = {"format": "feedbacklab-trace", "version": 1, "problem": "pose6d", "parameter_names": list("abcdefg"),
            "solvers": ["nmr"], "settings": [{}], "meta": {}}
    np.savez_compressed(tmp_path / "old.npz", **arrays, **{"meta.json": np.array(json.dumps(meta))})
    loaded = Comparison.load(tmp_path / "old.npz")
    assert loaded.problem == "pose6d" and loaded.config == {}
    assert np.array_equal(loaded.traces["nmr"].predictions, trace.predictions)
    assert loaded.traces["nmr"].info == {} and loaded.traces["nmr"].failures == {}


def _damaged(comparison, path, change):
    """The comparison saved to path, then one of its arrays changed as a damaged or hostile file would have it."""
    comparison.save(path)
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    change(arrays)
    np.savez(path, **arrays)
    return path


def _set(key, value):
    return lambda arrays: arrays.__setitem__(key, value(arrays[key]))


@pytest.mark.parametrize("change, message", [
    (_set("trace0.x", lambda x: x[:, 0]), "solver nmr's x has shape (13, 7) where (13, 2, 7) belongs"),
    (_set("trace0.energy", lambda e: e[:5]), "solver nmr's energy has shape (5, 2) where (13, 2) belongs"),
    (_set("trace1.predictions", lambda p: p[:, :, :40]), "solver softras's predictions has shape"),
    (_set("trace0.x", lambda x: np.where(x == x.max(), np.nan, x)), "solver nmr's x holds NaN or infinite values"),
    (_set("x0", lambda x: x[:, :3]), "x0 has shape (2, 3) where (2, 7) belongs"),
    (_set("ground_truth", lambda g: g.astype(str)), "the ground truth is not an array of numbers"),
    (_set("observation", lambda o: o[:, :, :40]), "must be square"),
    (_set("observation", lambda o: o[0]), "observation must have shape (B, H, W)"),
    (_set("trace0.metric.iou", lambda m: m[:, :1]), "solver nmr's metric.iou has shape"),
])
def test_damaged_trace_is_refused_at_load_in_one_line(comparison, tmp_path, change, message):
    path = _damaged(comparison, tmp_path / "run.npz", change)
    with pytest.raises(TraceError) as error:
        Comparison.load(path)
    text = str(error.value)
    assert text.startswith(f"{path}: damaged trace: ") and message in text and "\n" not in text


def test_a_failed_save_keeps_the_trace_that_was_there(comparison, tmp_path, full_disk):
    path = tmp_path / "run.npz"
    full_disk(path, lambda: comparison.save(path), np, "savez_compressed")
