"""AppState, LiveTrace, recent files and the views' text: the app's logic without a window."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from app.live_trace import LiveTrace
from app.recent import RecentFiles, config_dir
from app.state import AppState, RunState
from app.ui.columns import info_text, values_text
from app.ui.summary import summary_table
from app.ui.teach import phase_lines, update_rule
from engine.problems.registry import get_problem
from engine.solvers.base import Status
from engine.worker import protocol as p


def record(solver: str, index: int, status: Status = Status.RUNNING, energy: float = 1.0,
           info: dict | None = None) -> p.IterationDone:
    prediction = np.zeros((8, 8), np.float32)
    prediction[: index + 1] = 1.0
    return p.IterationDone(solver, index, np.full(7, float(index), np.float32), prediction,
                           energy, np.ones(7, np.float32), 0.1 * (index + 1), 0.1, int(status),
                           {"iou": 0.5, "rotation_error_deg": 10.0 - index}, dict(info or {}))


def started(*solvers: str) -> p.RunStarted:
    return p.RunStarted(solvers, np.zeros(7, np.float32), tuple("qw qx qy qz tx ty tz".split()), {})


def test_live_trace_holds_the_last_record():
    trace = LiveTrace("feedback")
    for t in range(3):
        trace.append(record("feedback", t, Status.CONVERGED if t == 2 else Status.RUNNING))
    assert trace.finished and trace.last_index == 2
    assert trace.at(10).index == 2 and trace.at(-1).index == 0
    assert np.array_equal(trace.series("rotation_error_deg"), [10, 9, 8])
    with pytest.raises(ValueError, match="arrived after"):
        trace.append(record("feedback", 7))
    with pytest.raises(IndexError):
        LiveTrace("empty").at(0)


def test_live_trace_to_engine_trace_and_back():
    trace = LiveTrace("nmr", {"learning_rate": 0.01})
    for t in range(4):
        trace.append(record("nmr", t, Status.MAX_ITERATIONS if t == 3 else Status.RUNNING, energy=1.0 / (t + 1)))
    engine_trace = trace.to_trace(get_problem("pose6d").observation)
    assert engine_trace.x.shape == (4, 1, 7) and engine_trace.predictions.shape == (4, 1, 8, 8)
    assert engine_trace.predictions.dtype == np.uint8  # pose6d keeps binary silhouettes as 0-255
    assert engine_trace.metrics["iou"].shape == (4, 1) and engine_trace.steps()[0] == 3
    back = LiveTrace.from_trace(engine_trace)
    assert back.finished and [r.index for r in back.records] == [0, 1, 2, 3]
    assert back.records[2].energy == pytest.approx(1 / 3) and back.settings == {"learning_rate": 0.01}
    stored = get_problem("pose6d").observation.encode(trace.records[2].prediction)
    assert np.array_equal(back.records[2].prediction, stored)  # as the engine sends it, in the problem's storage
    assert trace.to_trace(None).predictions is None
    with pytest.raises(ValueError, match="no iterations"):
        LiveTrace("empty").to_trace(None)


def test_live_trace_keeps_info_and_failure():
    trace = LiveTrace("lm")
    trace.append(record("lm", 0, info={"damping": 1e-3, "accepted": 1.0}))
    failed = record("lm", 1, Status.FAILED, info={"damping": 1e-2, "accepted": 0.0})
    trace.append(p.IterationDone(**{**failed.__dict__, "failure": "singular system"}))
    assert trace.failure == "singular system" and np.array_equal(trace.series("info.damping"), [1e-3, 1e-2])
    engine_trace = trace.to_trace(None)
    assert engine_trace.info["accepted"].shape == (2, 1) and engine_trace.failures == {0: "singular system"}
    engine_trace.predictions = np.stack([r.prediction for r in trace.records])[:, None]
    back = LiveTrace.from_trace(engine_trace)
    assert back.records[1].failure == "singular system" and back.records[1].info["accepted"] == 0.0
    assert info_text("accepted", 0.0) == "accepted: no" and info_text("gain_ratio", 0.8123) == "gain ratio 0.812"
    text = values_text(get_problem("pose6d"), back.records[1])
    assert "damping 0.01" in text and "failed: singular system" in text and "rotation" in text


def test_state_follows_new_iterations_unless_scrubbed():
    state = AppState()
    state.apply(started("a", "b"))
    assert state.run_state == RunState.RUNNING and state.teach_solver == "a"
    for t in range(5):
        state.apply(record("a", t))
    state.apply(record("b", 0, Status.CONVERGED))
    assert state.timeline_length == 5 and state.cursor == 4
    state.set_cursor(1, follow=False)
    state.apply(record("a", 5))
    assert state.cursor == 1
    state.set_cursor(99)
    assert state.cursor == 5
    version = state.version
    state.apply(p.RunFinished(cancelled=False))
    assert state.version > version and state.run_state == RunState.IDLE and "a 5, b 0" in state.messages[-1].text


def test_unsaved_work_follows_the_traces():
    state = AppState()
    assert not state.unsaved_work  # nothing computed, nothing to lose
    state.apply(started("nmr"))
    assert not state.unsaved_work
    state.apply(record("nmr", 0))
    assert state.unsaved_work and state.iterations_computed == 1
    state.mark_saved()
    assert not state.unsaved_work
    state.apply(record("nmr", 1))
    assert state.unsaved_work
    state.clear_run()
    assert not state.unsaved_work


def test_state_failures_and_unknown_results():
    state = AppState()
    state.apply(started("a", "b"))
    state.apply(p.SolverFailed("b", "b stopped: checkpoint does not fit"))
    assert state.traces["b"].finished and state.traces["b"].error and state.messages[-1].error
    headers, rows = summary_table(state.spec, state.traces)
    assert headers[:2] == ("Solver", "Status") and rows[1][:2] == ("b", "failed")
    state.apply(p.Failed("Run", "boom"))
    assert state.run_state == RunState.IDLE
    state.apply(record("gone", 0))  # a late record of a dropped run is ignored
    with pytest.raises(TypeError, match="does not handle"):
        state.apply("nonsense")


def test_summary_and_teaching_text():
    state = AppState()
    state.apply(started("nmr"))
    assert "forward" in phase_lines(state)[0] and "rendering" in phase_lines(state)[0]
    for t in range(3):
        state.apply(record("nmr", t, Status.CONVERGED if t == 2 else Status.RUNNING))
    state.set_cursor(1)
    lines = phase_lines(state)
    assert "p_1 = f(x_1)" in lines[0] and "8x8" in lines[0] and "E_1" in lines[1] and "|dx_1| = 2.6458" in lines[2]
    headers, rows = summary_table(state.spec, state.traces)
    row = dict(zip(headers, rows[0]))
    assert (row["Solver"], row["Status"], row["Steps"]) == ("nmr", "converged", "2") and row["Rot. (deg)"] == "8.00"
    spec = state.spec
    assert "network" in update_rule(spec, "feedback-shared") and "L-BFGS" in update_rule(spec, "nmr-lbfgs")
    assert update_rule(spec, "softras").startswith("optimizer: ") and "Adam" in update_rule(spec, "softras")


def test_recent_files(tmp_path, monkeypatch):
    recent = RecentFiles(tmp_path / "cfg" / "recent.json")
    files = [tmp_path / f"m{i}.obj" for i in range(12)]
    for f in files:
        f.write_text("")
        recent.add("pose6d:mesh", str(f))
    recent.add("pose6d:mesh", str(files[3]))
    assert recent.version == 13
    again = RecentFiles(tmp_path / "cfg" / "recent.json")
    assert again.items("pose6d:mesh")[0] == str(files[3]) and len(again.items("pose6d:mesh")) == 10
    files[3].unlink()
    assert str(files[3]) not in again.items("pose6d:mesh")
    (tmp_path / "cfg" / "recent.json").write_text(json.dumps({"mesh": [str(files[0])]}))  # the first app's
    assert RecentFiles(tmp_path / "cfg" / "recent.json").items("pose6d:mesh") == [str(files[0])]
    (tmp_path / "cfg" / "recent.json").write_text("{broken")
    assert RecentFiles(tmp_path / "cfg" / "recent.json").items("pose6d:mesh") == []
    (tmp_path / "cfg" / "recent.json").write_text(json.dumps([1, 2]))
    assert RecentFiles(tmp_path / "cfg" / "recent.json").items("session") == []
    with pytest.raises(ValueError, match="kind"):
        recent.add("video", "x")
    monkeypatch.setenv("FEEDBACKLAB_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert config_dir() == tmp_path / "elsewhere"


def test_a_failed_write_of_the_recent_files_keeps_the_list(tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    def full_disk(path, text):
        with open(path, "w") as file:
            file.write(text[:5])
        raise OSError(errno.ENOSPC, "No space left on device")

    recent = RecentFiles(tmp_path / "recent.json")
    (tmp_path / "a.obj").write_text("")
    recent.add("pose6d:mesh", str(tmp_path / "a.obj"))
    before = (tmp_path / "recent.json").read_bytes()
    monkeypatch.setattr(Path, "write_text", full_disk)
    recent.add("pose6d:mesh", str(tmp_path / "a.obj"))  # ignored, as a read-only config directory is
    assert (tmp_path / "recent.json").read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.obj", "recent.json"]


def _damaged_recent(path, damage: str) -> None:
    """recent.json damaged as careless or hostile users leave it."""
    if damage == "fifo":
        os.mkfifo(path)
    elif damage in ("/dev/zero", "/dev/urandom", "directory"):
        if damage == "directory":
            path.mkdir()
        else:
            path.symlink_to(damage)
    elif damage == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif damage == "huge":
        path.write_text(json.dumps({"session": ["x" * 100] * 30_000}))
    else:
        path.write_text(damage)


@pytest.mark.parametrize("damage", [
    '{"session": "abc"}', '{"session": [1, null, {"a": 1}]}', '{"pose6d:mesh": {"a": ["b"]}}', '"text"', "null",
    '{"session": [["nested"]]}', '{"session": ["a\\u0000b"]}', "\x00\xff garbage", "deep", "huge", "fifo",
    "/dev/zero", "/dev/urandom", "directory"])
def test_a_damaged_recent_list_is_ignored(tmp_path, damage):
    path = tmp_path / "recent.json"
    _damaged_recent(path, damage)
    recent = RecentFiles(path)  # no error, no hang, no memory error
    assert all(recent.items(kind) == [] for kind in ("session", "pose6d:mesh"))
    if damage not in ("fifo", "/dev/zero", "/dev/urandom", "directory"):
        good = tmp_path / "good.npz"
        good.write_text("")
        recent.add("session", str(good))  # rewritten on the next change
        assert RecentFiles(path).items("session") == [str(good)]


def test_new_messages_are_found_after_the_list_is_full():
    """The list keeps the last MAX_MESSAGES; the log and the error dialog still see every new one."""
    from app.state import MAX_MESSAGES

    state = AppState()
    for index in range(MAX_MESSAGES + 50):
        state.say(f"message {index}")
    seen = state.messages_said
    state.say("boom", error=True)
    assert [m.text for m in state.messages_since(seen)] == ["boom"]
    assert len(state.messages_since(0)) == MAX_MESSAGES and len(state.messages) == MAX_MESSAGES


def test_a_lesson_belongs_to_its_observation():
    state = AppState()
    state.apply(p.ProblemChanged("robust-mean", {}))
    state.lesson_pending = True
    state.apply(p.LessonReady({"damped": [{"log_sigma": 1.0}] * 4}, 4))
    assert state.lesson is not None and not state.lesson_pending and state.lesson_step == 0
    state.lesson_step = 3
    state.apply(p.ObservationReady(np.zeros((110,), np.float32), None, "a file"))
    assert state.lesson is None and state.lesson_step == 0
    state.lesson_pending = True
    state.apply(p.Failed("Learn", "the engine could not"))
    assert not state.lesson_pending
