from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from engine.compare import run_comparison
from engine.problems.registry import get_problem
from engine.problems.spec import CAMERA_VIEW, Viewpoint
from engine.record import render_frame
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
    engine.handle(p.LoadInput("mesh", None))
    engine.handle(p.NewObservation(seed=2))
    assert _kinds(engine) == ["InputLoaded", "ObservationReady"]


def test_solvers_advance_side_by_side(engine):
    _ready(engine)
    engine.handle(p.Run(("nmr", "feedback"), {"max_iterations": 8}))
    started = engine.results.pop()
    assert isinstance(started, p.RunStarted) and started.solvers == ("nmr", "feedback")
    assert started.settings["nmr"]["max_iterations"] == 8
    engine.advance()
    first = engine.results[:]
    assert [(r.solver, r.index) for r in first] == [("nmr", 0), ("feedback", 0)]
    assert first[0].prediction.dtype == np.uint8 and first[0].prediction.shape == (128, 128)  # pose6d's storage
    assert first[0].failure == "" and isinstance(first[0].info, dict)
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
    (p.LoadInput("mesh", "/no/such/mesh.obj"), "does not exist"),
    (p.LoadInput("skeleton", None), "no input 'skeleton'"),
    (p.LoadObservation("/no/such/image.png"), "no such observation"),
    (p.Run(("nmr",)), "no observation"),
    (p.SetInput("mesh", "m", {"vertices": np.zeros((3, 3)), "faces": np.array([[0, 1, 5]])}), "outside"),
    (p.SetObservation(np.zeros((8, 9)), None, "x"), "square"),
    (p.SetObservation(np.zeros((64, 64)), None, "x"), "does not fit"),
    (p.SetObservation(np.full((128, 128), np.nan), None, "x"), "NaN"),
    (p.SetObservation(np.zeros((128, 128)), np.zeros(3), "x"), "7 values"),
    (p.NewObservation((1, 0, 0)), "7 values"),
    (p.SetProblem("nope"), "unknown problem 'nope'"),
    (p.SetProblem("pose6d", {"size": 3}), "no setting(s) size"),
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
    assert "problem pose6d cannot run solver(s) nope; choose from nmr" in engine.results[-1].message
    engine.handle(p.EnergySlice(tuple(engine.ground_truth[0].tolist()), ("rx", "qq"), (1, 1)))
    assert "no slice axis 'qq'" in engine.results[-1].message
    engine.handle(p.Run(("nmr",), x0=(1, 0, float("nan"), 0, 0, 0, 0)))
    assert "NaN" in engine.results[-1].message
    assert engine.observation is not None and not engine.runs  # kept what it had


def test_set_problem_keeps_what_fits(engine):
    _ready(engine)
    engine.handle(p.SetProblem("pose6d", {"max_offset": 0.1}))  # the observation's size still fits
    changed = engine.results[-1]
    assert changed == p.ProblemChanged("pose6d", changed.config, ("mesh",), True)
    assert changed.config["max_offset"] == 0.1 and engine.observation is not None
    engine.handle(p.SetProblem("pose6d", {"image_size": 64}))  # predictions are 64 px now: forgotten
    assert engine.results[-1].observation_kept is False and engine.observation is None
    assert engine.results[-1].inputs_kept == ("mesh",) and engine.config.image_size == 64
    engine.handle(p.NewObservation(seed=1))
    assert engine.results[-1].observation.shape == (64, 64)


def test_loaded_observation_fits_the_config(engine, tmp_path):
    import imageio.v3 as iio

    image = np.zeros((48, 48), np.uint8)
    image[10:30, 12:40] = 255
    iio.imwrite(tmp_path / "s.png", image)
    engine.handle(p.LoadObservation(str(tmp_path / "s.png")))
    assert _kinds(engine) == ["ProblemChanged", "ObservationReady"]
    assert engine.config.image_size == 48 and engine.ground_truth is None


def test_set_mesh_and_observation_restore(engine):
    _ready(engine)
    mesh = engine.inputs["mesh"]
    arrays = get_problem("pose6d").inputs[0].to_arrays(mesh)
    engine.handle(p.SetInput("mesh", "again", arrays))
    image = np.zeros((128, 128), np.float32)
    image[20:40, 20:40] = 1
    engine.handle(p.SetObservation(image, None, "restored"))
    assert _kinds(engine) == ["InputLoaded", "ObservationReady"]
    assert engine.inputs["mesh"].name == "again"
    assert engine.observation.shape == (1, 128, 128) and engine.ground_truth is None
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
    comparison = run_comparison(engine.spec, engine.problem(), engine.observation, ["feedback"])
    engine.results.clear()
    engine.handle(p.Export(comparison, str(tmp_path / "out.gif"), max_frames=20))
    kinds = _kinds(engine)
    assert kinds[-1] == "ExportFinished" and kinds.count("ExportProgress") == 6
    exported = iio.imread(tmp_path / "out.gif", index=0)
    assert exported.shape[0] > render_frame(comparison, 0).shape[0] + 100  # with the problem's 3D view
    engine.handle(p.Export(comparison, str(tmp_path / "missing" / "out.gif")))
    assert "does not exist" in engine.results[-1].message


def test_render_panel_answers_every_request(engine):
    """The picture of the problem the engine holds, with the request it answers; or, for a request it cannot
    carry out, the reason, and the engine goes on."""
    _ready(engine)
    truth = engine.ground_truth[0].numpy()
    x = np.array([1, 0, 0, 0, 0, 0, 0], np.float32)
    request = p.RenderPanel("view3d", x, truth, Viewpoint(0.5, 0.2))
    engine.handle(request)
    answer = engine.results.pop()
    assert isinstance(answer, p.PanelRendered) and answer.request is request and answer.error == ""
    assert answer.image.dtype == np.uint8 and answer.image.ndim == 3 and answer.image.shape[2] == 3
    engine.handle(p.RenderPanel("view3d", x, None, CAMERA_VIEW))
    assert not np.array_equal(engine.results.pop().image, answer.image)
    for bad, words in ((p.RenderPanel("nope", x, None, CAMERA_VIEW), "renders no panel 'nope'"),
                       (p.RenderPanel("view3d", x[:6], None, CAMERA_VIEW), "got shape (6,)")):
        engine.handle(bad)
        refused = engine.results.pop()
        assert isinstance(refused, p.PanelRendered) and refused.image is None and words in refused.error
    engine.handle(p.SetProblem("ik", {}))
    engine.handle(p.RenderPanel("view3d", x, None, CAMERA_VIEW))
    assert "problem ik renders no panel 'view3d'" in engine.results.pop().error


def _finish(engine) -> list:
    while engine.running:
        engine.advance()
    results = engine.results[:]
    engine.results.clear()
    return results


def test_a_learned_ik_solver_that_does_not_fit_stops_alone(engine):
    """Another skeleton (--betas) for the shipped networks, no ground truth for ikol: each stops with its one
    line, lm runs to the end."""
    engine.handle(p.SetProblem("ik", {"betas": (1.5,)}))
    engine.handle(p.NewObservation(seed=3))
    observation = engine.results[-1].observation
    engine.handle(p.SetObservation(observation, None, "targets.npy"))
    engine.results.clear()
    engine.handle(p.Run(("lm", "feedback", "ikol", "ikol-net"), {"max_iterations": 5}))
    results = _finish(engine)
    failed = {r.solver: r.message for r in results if isinstance(r, p.SolverFailed)}
    assert set(failed) == {"feedback", "ikol", "ikol-net"}
    assert all("trained on another skeleton" in failed[name] and "\n" not in failed[name]
               for name in ("feedback", "ikol-net"))
    assert "takes each joint's twist from the ground truth" in failed["ikol"]
    done = {r.solver for r in results if isinstance(r, p.IterationDone)}
    assert "lm" in done and isinstance(results[-1], p.RunFinished)


def test_learn_trains_the_problems_lesson_on_the_observation(engine, monkeypatch):
    monkeypatch.setattr("engine.problems.robust_mean.demo.LESSON_TRAINING",
                        {"learning_rate": 3e-6, "momentum": 0.99, "batch_size": 2, "validation_problems": 4})
    engine.handle(p.Learn(steps=2))
    assert _kinds(engine) == ["Failed"]  # pose6d learns no energy
    engine.handle(p.SetProblem("robust-mean", {}))
    engine.handle(p.Learn(steps=2))
    failed = engine.results[-1]
    assert isinstance(failed, p.Failed) and "no observation yet" in failed.message
    engine.handle(p.NewObservation(seed=1))
    engine.results.clear()
    engine.handle(p.Learn(steps=3))
    ready = engine.results[-1]
    assert isinstance(ready, p.LessonReady) and ready.steps == 3
    assert all(len(frames) == 3 for frames in ready.frames.values()) and len(ready.frames) == 2
    engine.handle(p.Learn(steps=0))
    assert isinstance(engine.results[-1], p.Failed) and "lesson steps" in engine.results[-1].message


def test_an_opened_jpeg_is_the_observation_with_its_truth_unknown(engine, tmp_path):
    from PIL import Image

    pixels = (np.indices((32, 40)).sum(0) % 7 * 30).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", quality=20)
    engine.handle(p.SetProblem("jpeg", {}))
    engine.handle(p.LoadInput("image", str(tmp_path / "photo.jpg")))
    engine.handle(p.NewObservation(seed=0))
    ready = engine.results[-1]
    assert isinstance(ready, p.ObservationReady) and ready.ground_truth is None
    assert ready.observation.shape == (1, 32, 40)
    engine.handle(p.Run(("jpeg", "feedback"), {}))
    started = engine.results[-1]
    assert isinstance(started, p.RunStarted) and started.x0.shape == (32 * 40,)
    while engine.running:
        engine.advance()
    assert isinstance(engine.results[-1], p.RunFinished)
