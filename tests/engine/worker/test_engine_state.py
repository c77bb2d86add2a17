from __future__ import annotations

import numpy as np
import pytest
from engine.compare import run_comparison
from engine.problems.pose6d import Pose6DProblem
from engine.worker import protocol as p
from engine.worker.engine_state import EngineState


@pytest.fixture
def engine(device):
    results: list = []
    state = EngineState(results.append, device)
    state.results = results
    return state


def _kinds(engine) -> list[str]:
    kinds = [type(r).__name__ for r in engine.results]
    engine.results.clear()
    return kinds


def _ready(engine) -> None:
    engine.handle(p.LoadMesh(None))
    engine.handle(p.NewObservation(seed=2))
    assert _kinds(engine) == ["MeshLoaded", "ObservationReady"]


def test_solvers_advance_side_by_side(engine):
    _ready(engine)
    engine.handle(p.Run(("nmr", "feedback"), {"max_iterations": 8}))
    started = engine.results.pop()
    assert isinstance(started, p.RunStarted) and started.solvers == ("nmr", "feedback")
    assert started.settings["nmr"]["max_iterations"] == 8
    engine.advance()
    first = engine.results[:]
    assert [(r.solver, r.index) for r in first] == [("nmr", 0), ("feedback", 0)]
    assert first[0].rendering.dtype == np.uint8 and first[0].rendering.shape == (128, 128)
    assert first[0].x.shape == (7,) and set(first[0].metrics) >= {"rotation_error_deg", "iou"}
    while engine.running:
        engine.advance()
    done = [r for r in engine.results if isinstance(r, p.IterationDone)]
    assert max(r.index for r in done if r.solver == "feedback") == 5
    assert max(r.index for r in done if r.solver == "nmr") <= 8
    assert isinstance(engine.results[-1], p.RunFinished) and not engine.results[-1].cancelled


def test_pause_advance_cancel(engine):
    _ready(engine)
    engine.handle(p.Run(("nmr",), {}, paused=True))
    assert not engine.running
    engine.handle(p.Advance())
    engine.handle(p.Advance())
    assert [r.index for r in engine.results if isinstance(r, p.IterationDone)] == [0, 1]
    engine.handle(p.Resume())
    assert engine.running
    engine.handle(p.Pause())
    assert not engine.running
    engine.handle(p.Cancel())
    assert engine.results[-1] == p.RunFinished(cancelled=True) and not engine.runs


@pytest.mark.parametrize("command, words", [
    (p.LoadMesh("/no/such/mesh.obj"), "does not exist"),
    (p.LoadObservation("/no/such/image.png"), "no such observation"),
    (p.Run(("nmr",)), "no observation"),
    (p.NewObservation(), "no mesh loaded"),
    (p.SetMesh("m", np.zeros((3, 3)), np.array([[0, 1, 5]])), "outside"),
    (p.SetObservation(np.zeros((8, 9)), None, "x"), "square"),
    (p.EnergySlice((1, 0, 0, 0, 0, 0, 0), ("rx", "ry"), (1, 1)), "no observation"),
    ("not a command", "does not know"),
])
def test_bad_commands_are_one_line_failures(engine, command, words):
    engine.handle(command)
    failure = engine.results[-1]
    assert isinstance(failure, p.Failed) and words in failure.message and "\n" not in failure.message


def test_bad_solver_and_pose(engine):
    _ready(engine)
    engine.handle(p.Run(("nmr", "nope")))
    assert "unknown solver" in engine.results[-1].message
    engine.handle(p.NewObservation(pose=(0, 0, 0, 0, 0, 0, 0)))
    assert "zero quaternion" in engine.results[-1].message
    engine.handle(p.NewObservation(image_size=4))
    assert "image size" in engine.results[-1].message


def test_set_mesh_and_observation_restore(engine):
    _ready(engine)
    mesh = engine.mesh
    engine.handle(p.SetMesh("again", mesh.vertices.numpy(), mesh.faces.numpy()))
    image = np.zeros((64, 64), np.float32)
    image[20:40, 20:40] = 1
    engine.handle(p.SetObservation(image, None, "restored"))
    assert _kinds(engine) == ["MeshLoaded", "ObservationReady"]
    assert engine.observation.shape == (1, 64, 64) and engine.ground_truth is None
    engine.handle(p.Run(("nmr",), {"max_iterations": 2}))
    while engine.running:
        engine.advance()
    assert "rotation_error_deg" not in engine.results[-2].metrics  # no ground truth, no errors


def test_energy_slice_and_export(engine, tmp_path):
    _ready(engine)
    truth = tuple(engine.ground_truth[0].tolist())
    engine.handle(p.EnergySlice(truth, ("rz", "tx"), (20.0, 0.1), resolution=5))
    result = engine.results[-1]
    assert isinstance(result, p.EnergySliceReady) and result.energy.shape == (5, 5)
    assert result.energy[2, 2] == result.energy.min()  # the ground truth is the slice's minimum
    problem = Pose6DProblem.for_meshes(engine.mesh, 1, device=engine.device)
    comparison = run_comparison(problem, "pose6d", engine.observation, ["feedback"])
    engine.results.clear()
    engine.handle(p.Export(comparison, str(tmp_path / "out.gif"), max_frames=20))
    kinds = _kinds(engine)
    assert kinds[-1] == "ExportFinished" and kinds.count("ExportProgress") == 6
    engine.handle(p.Export(comparison, str(tmp_path / "missing" / "out.gif")))
    assert "does not exist" in engine.results[-1].message
