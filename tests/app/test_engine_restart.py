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
    _poll_until(live, lambda: state.engine_ready and not any(live._restoring.values()))
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
