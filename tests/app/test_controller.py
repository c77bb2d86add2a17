from __future__ import annotations

import os

import imageio.v3 as iio
import numpy as np
import pytest
import trimesh

from app import controller as controller_module
from app.controller import MAX_QUICK_RESTARTS, PREFETCH, Controller
from app.recent import RecentFiles
from app.rendered import DEFAULT_ORBIT, picture_key, turned
from app.state import ObservationInfo, RunState
from engine.problems.spec import CAMERA_VIEW
from engine.worker import protocol as p

from .conftest import settle


def test_load_and_observe(controller, tmp_path):
    mesh_file = tmp_path / "box.obj"
    trimesh.creation.box((1, 0.5, 0.3)).export(mesh_file)
    controller.load_input("mesh", str(mesh_file))
    controller.new_observation()
    settle(controller)
    state = controller.state
    assert state.inputs["mesh"].name == "box" and len(state.inputs["mesh"].arrays["faces"]) == 12
    assert state.inputs["mesh"].path == str(mesh_file)
    assert state.observation.observation.shape == (128, 128) and state.observation.ground_truth.shape == (7,)
    assert controller.recent.items("pose6d:mesh") == [str(mesh_file)]
    assert state.settings.seed == 1  # the next random observation differs


def test_bad_mesh_keeps_what_was_loaded(controller, tmp_path):
    controller.load_input("mesh", None)
    settle(controller)
    bad = tmp_path / "bad.ply"
    bad.write_text("garbage")
    controller.load_input("mesh", str(bad))
    settle(controller)
    state = controller.state
    assert state.last_message.error and "bad.ply" in state.last_message.text
    assert state.inputs["mesh"].name == "car-001"
    assert controller.recent.items("pose6d:mesh") == []


def test_run_without_observation_is_a_message(controller):
    controller.run()
    assert controller.state.last_message.error and "observation" in controller.state.last_message.text
    assert controller.state.run_state == RunState.IDLE


def test_typed_ground_truth_observation(controller):
    controller.observation_from_text("2, 0, 0, 0, 0.05, 0, 0")  # parse_x normalises the quaternion
    settle(controller)
    assert np.allclose(controller.state.observation.ground_truth, [1, 0, 0, 0, 0.05, 0, 0])
    controller.observation_from_text("0,0,0,0,0,0,0")
    settle(controller)
    assert controller.state.last_message.error and "zero quaternion" in controller.state.last_message.text
    assert np.allclose(controller.state.observation.ground_truth, [1, 0, 0, 0, 0.05, 0, 0])  # kept


def test_run_side_by_side_and_step_through(solved):
    state = solved.state
    assert list(state.traces) == ["nmr", "feedback"]
    assert state.traces["feedback"].last_index == 5
    assert state.cursor == state.timeline_length - 1 == state.traces["nmr"].last_index
    sent_before = len(solved.engine.sent)
    solved.step_back()
    solved.step_back()
    assert state.cursor == state.timeline_length - 3 and not state.follow
    solved.step_forward()
    assert state.cursor == state.timeline_length - 2
    solved.scrub(3)
    assert state.cursor == 3
    assert state.traces["feedback"].at(3).index == 3 and state.traces["feedback"].at(9).index == 5
    solved.scrub(10_000)
    assert state.cursor == state.timeline_length - 1
    assert len(solved.engine.sent) == sent_before  # stepping and scrubbing never recompute


def test_pause_step_resume(controller):
    controller.state.settings.solvers = ["nmr"]
    controller.new_observation()
    settle(controller)
    controller.step_forward()  # no run yet: starts one paused and computes iteration 0
    settle(controller)
    state = controller.state
    assert state.run_state == RunState.PAUSED and state.timeline_length == 1
    controller.step_forward()
    settle(controller)
    assert state.timeline_length == 2 and state.cursor == 1
    controller.run()
    settle(controller)
    assert state.run_state == RunState.IDLE and state.traces["nmr"].finished


def test_cancel_mid_run_keeps_the_iterations(controller):
    controller.new_observation()
    settle(controller)
    controller.state.settings.solvers = ["softras"]
    controller.run()
    for _ in range(4):
        controller.poll()
    controller.cancel()
    settle(controller)
    state = controller.state
    assert state.run_state == RunState.IDLE and 1 <= state.timeline_length < 12
    assert not state.traces["softras"].finished and "cancelled" in state.messages[-1].text


def test_reset(solved):
    solved.reset()
    assert solved.state.traces == {} and solved.state.cursor == 0
    assert solved.state.inputs["mesh"] is not None and solved.state.observation is not None


def test_replay_from_stored_iterations(solved):
    state = solved.state
    solved.scrub(0)
    solved.toggle_playback()
    assert state.playing
    solved._play_position = state.timeline_length  # as if enough time had passed
    solved.poll()
    assert state.cursor == state.timeline_length - 1 and not state.playing


def test_teach_phases_walk_the_loop(solved):
    state = solved.state
    solved.scrub(0)
    assert state.teach_solver == "nmr" and state.teach_phase == 0
    solved.teach_step()
    solved.teach_step()
    assert state.teach_phase == 2 and state.cursor == 0
    solved.teach_step()
    assert state.teach_phase == 0 and state.cursor == 1


def test_energy_slice_around_the_estimate(solved):
    solved.slice_axes = ("tx", "tz")
    solved.compute_energy_slice()
    settle(solved)
    result = solved.state.energy_slice
    assert result.axes == ("tx", "tz") and result.energy.shape == (15, 15)
    assert np.allclose(result.center, solved.state.traces["nmr"].at(solved.state.cursor).x)


def test_export_gif(solved, tmp_path):
    path = tmp_path / "run.gif"
    solved.export(str(path))
    settle(solved)
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == solved.state.timeline_length
    assert solved.state.export_progress is None and "wrote" in solved.state.last_message.text


def test_export_errors_are_messages(solved, tmp_path):
    solved.reset()
    solved.export(str(tmp_path / "x.gif"))
    assert "nothing to record" in solved.state.last_message.text
    solved.run()
    settle(solved)
    solved.export(str(tmp_path / "x.avi"))
    settle(solved)
    assert solved.state.last_message.error and ".avi" in solved.state.last_message.text
    assert solved.state.export_progress is None


def test_session_round_trip(solved, tmp_path):
    path = str(tmp_path / "session.npz")
    state = solved.state
    solved.scrub(4)
    steps = {name: trace.last_index for name, trace in state.traces.items()}
    prediction = state.traces["nmr"].at(4).prediction.copy()
    assert state.unsaved_work
    solved.save_session(path)
    assert not state.unsaved_work
    solved.reset()
    solved.load_input("mesh", "chair-3")
    settle(solved)
    solved.open_session(path)
    settle(solved)
    assert {name: trace.last_index for name, trace in state.traces.items()} == steps
    assert state.inputs["mesh"].name == "car-001" and state.cursor == 4
    assert np.array_equal(state.traces["nmr"].at(4).prediction, prediction)
    assert not state.unsaved_work  # what was just opened is in its file
    assert solved.recent.items("session") == [os.path.abspath(path)]
    restore = [type(c).__name__ for c in solved.engine.sent if not isinstance(c, p.RenderPanel)][-3:]
    assert restore == ["SetProblem", "SetInput", "SetObservation"]
    assert solved.engine.state.inputs["mesh"].name == "car-001"
    solved.run()  # the engine got the session's problem back
    settle(solved)
    assert state.all_finished and state.unsaved_work


def test_session_errors(solved, tmp_path):
    state = solved.state
    trace_file = tmp_path / "trace.npz"
    solved.state.comparison().save(trace_file)
    solved.open_session(str(tmp_path / "nothing.npz"))
    assert state.last_message.error and "nothing.npz" in state.last_message.text
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    solved.open_session(str(garbage))
    assert "not a feedbacklab session" in state.last_message.text
    solved.open_session(str(trace_file))
    assert "not an app session" in state.last_message.text
    solved.save_session(str(tmp_path / "s.txt"))
    assert ".npz" in state.last_message.text
    assert list(state.traces) == ["nmr", "feedback"]  # nothing was lost
    assert state.unsaved_work  # and a failed save does not count as saved
    solved.reset()
    solved.state.observation = None
    solved.save_session(str(tmp_path / "empty.npz"))
    assert "nothing to save" in state.last_message.text


def test_engine_failure_message(controller):
    controller._take(p.Failed("Run", "the run stopped: boom"))
    assert controller.state.run_state == RunState.IDLE and controller.state.last_message.error


def test_recent_files_only_list_files_that_loaded(controller, tmp_path):
    controller.load_input("mesh", None)
    settle(controller)
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    image = np.zeros((32, 32), np.uint8)
    image[8:20, 10:24] = 255
    iio.imwrite(good, image)
    bad.write_bytes(b"not an image")
    controller.new_observation()  # its result arrives first, and must not be taken for the file's
    controller.open_observation(str(bad))
    controller.open_observation(str(good))
    settle(controller)
    assert controller.recent.items("pose6d:observation") == [str(good)]
    assert controller.recent.items("pose6d:mesh") == []  # the built-in mesh is no file
    assert controller.state.config["image_size"] == 32  # fitted to the file (spec.fit_config)


class _DyingEngine:
    """An engine process that exits right after every start."""

    def __init__(self):
        self.starts, self.exit_code, self.alive, self.silent_seconds = 0, None, False, 0.0

    def start(self):
        self.starts += 1
        self.exit_code = -11

    restart = start

    def stop(self):
        self.exit_code = None

    def poll(self, budget_seconds=0.0):
        return []

    def send(self, command):
        pass


def test_an_engine_that_keeps_dying_is_given_up(tmp_path):
    controller = Controller(_DyingEngine(), recent=RecentFiles(tmp_path / "recent.json"))
    controller.start()
    for _ in range(10):
        controller.poll()
    assert controller.engine.starts == MAX_QUICK_RESTARTS + 1
    assert "not restarting" in controller.state.last_message.text and "-11" in controller.state.last_message.text


def test_an_engine_given_up_says_so_and_offers_a_restart(tmp_path):
    controller = Controller(_DyingEngine(), recent=RecentFiles(tmp_path / "recent.json"))
    controller.start()
    for _ in range(10):
        controller.poll()
    state = controller.state
    assert state.engine_stopped and "-11" in state.engine_stopped
    state.observation = ObservationInfo(np.zeros((128, 128), np.float32), None, "made before the engine died")
    controller.run()
    assert state.run_state == RunState.IDLE  # not "running" forever
    assert "Restart engine" in state.last_message.text and "restarts on its own" not in state.last_message.text
    starts = controller.engine.starts
    controller.engine = _FrozenEngine()  # the restart works this time
    controller.restart_engine()
    assert controller.engine.starts == 1 and not state.engine_stopped
    assert [type(c).__name__ for c in controller.engine.sent][:1] == ["SetProblem"] and starts > 1


class _FrozenEngine:
    """A live engine process that stops answering (SIGSTOP) once `freeze()` is called."""

    def __init__(self):
        self.starts, self.exit_code, self.alive, self.silent_seconds, self.sent = 0, None, False, 0.0, []
        self.killed = 0

    def start(self):
        self.starts += 1
        self.alive, self.silent_seconds = True, 0.0

    restart = start

    def freeze(self):
        self.silent_seconds = 60.0

    def kill(self):
        self.killed += 1
        self.alive = False

    def stop(self):
        self.alive = False

    def poll(self, budget_seconds=0.0):
        return []

    def send(self, command):
        self.sent.append(command)


def test_an_engine_that_does_not_answer_is_stopped_with_a_message(tmp_path):
    engine = _FrozenEngine()
    controller = Controller(engine, recent=RecentFiles(tmp_path / "recent.json"))
    controller.start()
    controller.poll()
    assert not controller.state.engine_stopped
    engine.freeze()
    controller.poll()
    state = controller.state
    assert engine.killed == 1 and "does not answer" in state.last_message.text and state.engine_stopped
    controller.cancel()
    controller.run()
    assert state.run_state == RunState.IDLE and engine.starts == 1  # no silent restart, no "running"
    controller.restart_engine()
    assert engine.starts == 2 and not state.engine_stopped and engine.alive


def _changes(controller, tmp_path) -> dict:
    """Every action that replaces what the runs were computed on, by name."""
    session = str(tmp_path / "other.npz")
    controller.save_session(session)
    controller.state.work_version += 1  # the runs count as unsaved again
    image = tmp_path / "y.png"
    picture = np.zeros((64, 64), np.uint8)
    picture[20:40, 16:50] = 255
    iio.imwrite(image, picture)
    return {"open session": lambda: controller.open_session(session),
            "open mesh": lambda: controller.load_input("mesh", "chair-2"),
            "random": lambda: controller.new_observation(),
            "typed ground truth": lambda: controller.observation_from_text("1,0,0,0,0,0,0"),
            "open image": lambda: controller.open_observation(str(image)),
            "problem": lambda: controller.set_problem("ik"),
            "settings": lambda: controller.set_config("image_size", 96)}


def test_replacing_unsaved_runs_asks_first(solved, tmp_path):
    state = solved.state
    for name, change in _changes(solved, tmp_path).items():
        assert state.unsaved_work, name
        traces, sent = state.traces, len(solved.engine.sent)
        change()
        settle(solved)
        assert state.question is not None and "not saved in a session" in state.question.text, name
        assert state.traces is traces and len(solved.engine.sent) == sent, name  # nothing happened yet
        solved.answer("cancel")
        settle(solved)
        assert state.question is None and state.traces is traces, name
    change = _changes(solved, tmp_path)["open image"]
    change()
    solved.answer("discard")
    settle(solved)
    assert state.observation.observation.shape == (64, 64) and state.traces == {}


def test_saving_first_then_going_on(solved, tmp_path):
    state = solved.state
    solved.new_observation()
    solved.answer("save")
    assert state.question is None and state.traces  # the view now opens the save dialog
    solved.save_session(str(tmp_path / "kept.npz"))
    settle(solved)
    assert state.traces == {} and "random" in state.observation.source  # saved, then the new observation


def test_a_new_observation_never_keeps_the_old_traces(solved, tmp_path):
    state = solved.state
    solved.save_session(str(tmp_path / "saved.npz"))  # nothing unsaved: no question
    old = state.observation
    solved.new_observation()
    settle(solved)
    assert state.observation is not old and state.traces == {} and state.x0 is None
    path = tmp_path / "new.npz"
    solved.save_session(str(path))
    from app.session import load_session

    assert load_session(str(path)).traces == {}  # a save never pairs old traces with the new observation


def test_pointing_moves_the_panels_that_follow_the_cursor(controller):
    state = controller.state
    version = state.version
    controller.point_at(None)  # over no picture: nothing changes
    assert state.focus == (0.5, 0.5) and state.version == version
    controller.point_at((0.25, 0.75))
    assert state.focus == (0.25, 0.75) and state.version == version + 1


def _render_requests(controller) -> list[p.RenderPanel]:
    return [command for command in controller.engine.sent if isinstance(command, p.RenderPanel)]


def test_the_3d_view_is_drawn_by_the_engine_at_the_cursor_and_around_it(solved):
    """Every column's rendered picture at the cursor, then the positions near it (no run computes), each drawn
    once: scrubbing back over them asks nothing more of the engine."""
    state = solved.state
    truth = state.observation.ground_truth
    for t in range(state.timeline_length - 1 - PREFETCH, state.timeline_length):
        for trace in state.traces.values():
            picture = state.rendered.get(picture_key("view3d", trace.at(t).x, truth, CAMERA_VIEW))
            assert picture is not None and picture.dtype == np.uint8 and picture.shape[2] == 3, (trace.solver, t)
    solved.scrub(state.timeline_length - 3)
    assert all(state.rendered.get(picture_key("view3d", trace.at(state.cursor).x, truth, CAMERA_VIEW)) is not None
               for trace in state.traces.values())  # scrubbing back finds them drawn
    settle(solved)
    keys = [picture_key(c.panel, c.x, c.ground_truth, c.viewpoint) for c in _render_requests(solved)]
    assert len(set(keys)) == len(keys)  # nothing drawn twice
    asked = len(keys)
    solved.set_orbit(True)  # nothing drawn from there yet: the cursor's pictures first, one for both solvers
    solved.scrub(0)
    solved.poll()
    first = _render_requests(solved)[asked:]
    assert [(c.x.tolist(), c.viewpoint) for c in first] == [(state.x0.tolist(), DEFAULT_ORBIT)]


@pytest.mark.parametrize("setting, value", [("LIVE_RENDER_SECONDS", 60.0), ("LIVE_RENDER_SHARE", 1e-6)])
def test_a_computing_run_asks_for_rendered_pictures_seldom(controller, monkeypatch, setting, value):
    """At most every LIVE_RENDER_SECONDS, and waiting 1 / LIVE_RENDER_SHARE times the last answer's time."""
    monkeypatch.setattr(controller_module, setting, value)
    controller.state.settings.solvers = ["nmr"]
    controller.load_input("mesh", None)
    controller.new_observation()
    settle(controller)
    controller.run()
    while controller.state.run_state == RunState.RUNNING:
        during = len(_render_requests(controller))
        controller.poll()
    assert during == 1
    settle(controller)
    assert len(_render_requests(controller)) > 1  # the run is over: the positions around the cursor


def test_the_orbit_view_is_chosen_and_turned_by_dragging(solved):
    state = solved.state
    solved.drag_orbit(40, 0)  # no drag began: nothing turns
    solved.begin_orbit()  # the camera view: a press does not start turning
    solved.drag_orbit(40, 0)
    assert state.orbit_view == DEFAULT_ORBIT and state.viewpoint == CAMERA_VIEW
    solved.set_orbit(True)
    assert state.viewpoint == DEFAULT_ORBIT
    solved.begin_orbit()
    solved.drag_orbit(40, -20)
    solved.drag_orbit(60, 10)  # deltas count from where the drag began
    assert state.orbit_view == turned(DEFAULT_ORBIT, 60, 10) == state.viewpoint
    solved.end_orbit()
    solved.drag_orbit(500, 500)
    assert state.orbit_view == turned(DEFAULT_ORBIT, 60, 10)
    settle(solved)
    x = state.traces["nmr"].at(state.cursor).x
    truth = state.observation.ground_truth
    orbit = state.rendered.get(picture_key("view3d", x, truth, state.viewpoint))
    camera = state.rendered.get(picture_key("view3d", x, truth, CAMERA_VIEW))
    assert orbit is not None and camera is not None and not np.array_equal(orbit, camera)
    solved.set_orbit(False)
    assert state.viewpoint == CAMERA_VIEW and state.orbit_view == turned(DEFAULT_ORBIT, 60, 10)


def test_other_inputs_forget_the_rendered_pictures_and_failures_are_said_once(solved, tmp_path):
    state = solved.state
    assert state.rendered.pictures
    mesh_file = tmp_path / "box.obj"
    trimesh.creation.box((1, 0.5, 0.3)).export(mesh_file)
    solved.load_input("mesh", str(mesh_file))
    solved.answer("discard")
    settle(solved)
    assert state.inputs["mesh"].name == "box" and not state.rendered.pictures and not state.traces
    request = state.rendered.request("view3d", np.zeros(6, np.float32), None, CAMERA_VIEW)
    solved.engine.send(request)
    settle(solved)
    assert state.last_message.error and "view3d not drawn: pose6d's 3D view needs the estimate" in \
        state.last_message.text
    said = state.messages_said
    solved.engine.send(state.rendered.request("view3d", np.ones(6, np.float32), None, CAMERA_VIEW))
    settle(solved)
    assert state.messages_said == said  # the same reason again is not said again


def test_problems_without_rendered_panels_ask_for_none(controller):
    controller.set_problem("ik")
    settle(controller)
    controller.state.settings.solvers = ["lbfgs"]
    controller.new_observation()
    settle(controller)
    controller.run()
    settle(controller)
    assert controller.state.traces["lbfgs"] and not _render_requests(controller)
