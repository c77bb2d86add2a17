"""The real engine process: a killed engine is noticed, restarted, and given back the problem, its inputs and
the observation."""
from __future__ import annotations

import os
import signal
import time

import pytest

from app.controller import Controller
from app.recent import RecentFiles
from app.state import RunState


def _poll_until(controller: Controller, condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; last message: {controller.state.last_message}"
        controller.poll()
        time.sleep(0.01)


@pytest.fixture
def live(tmp_path):
    controller = Controller(recent=RecentFiles(tmp_path / "recent.json"))
    controller.start()
    yield controller
    controller.close()


def test_killed_engine_restarts_with_the_problem(live):
    state = live.state
    state.settings.solvers = ["nmr"]
    state.settings.max_iterations = 3
    live.set_config("image_size", 64)
    live.load_input("mesh", "chair-2")
    live.new_observation()
    _poll_until(live, lambda: state.observation is not None)
    observation = state.observation
    os.kill(live.engine.pid, signal.SIGKILL)
    _poll_until(live, lambda: live.engine.starts == 2)
    assert state.last_message.error and "restarted" in state.last_message.text
    assert "-9" in state.last_message.text
    _poll_until(live, lambda: state.engine_ready and not live.restoring)
    assert state.inputs["mesh"].name == "chair-002" and state.observation is observation
    assert state.config["image_size"] == 64
    live.run()
    _poll_until(live, lambda: state.run_state == RunState.IDLE and state.all_finished)
    assert state.traces["nmr"].last_index == 3


def test_cancel_mid_run_in_the_process(live):
    state = live.state
    state.settings.solvers = ["softras"]
    state.settings.max_iterations = 500
    live.new_observation()
    _poll_until(live, lambda: state.observation is not None)
    live.run()
    _poll_until(live, lambda: state.timeline_length >= 3)
    live.cancel()
    _poll_until(live, lambda: state.run_state == RunState.IDLE)
    assert not state.traces["softras"].finished and state.timeline_length < 500


def test_a_frozen_engine_is_noticed_stopped_and_restarted(live, monkeypatch):
    """A stopped (SIGSTOP) engine process sends no heartbeat: the app says so, kills it and restarts it on
    request with what it holds."""
    import app.controller

    monkeypatch.setattr(app.controller, "SILENCE_LIMIT", 1.5)
    state = live.state
    _poll_until(live, lambda: state.engine_ready)
    live.new_observation()
    _poll_until(live, lambda: state.observation is not None)
    frozen = live.engine.pid
    os.kill(frozen, signal.SIGSTOP)
    try:
        _poll_until(live, lambda: bool(state.engine_stopped), timeout=30)
    finally:
        if live.engine.pid == frozen:
            os.kill(frozen, signal.SIGKILL)
    assert "does not answer" in state.last_message.text and not live.engine.alive
    live.run()
    assert state.run_state == RunState.IDLE and "Restart engine" in state.last_message.text
    monkeypatch.undo()  # the usual limit again: a new engine importing torch on a loaded machine is not frozen
    live.restart_engine()
    _poll_until(live, lambda: state.engine_ready and not live.restoring)
    assert live.engine.pid != frozen and not state.engine_stopped
    state.settings.solvers, state.settings.max_iterations = ["nmr"], 2
    live.run()
    _poll_until(live, lambda: state.run_state == RunState.IDLE and state.all_finished)
