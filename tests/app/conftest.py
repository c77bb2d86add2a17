"""The app's logic against the real engine code, run in the test's process (no spawn, no window)."""
from __future__ import annotations

from typing import Any

import dearpygui.dearpygui as dpg
import pytest

from app.controller import Controller
from app.recent import RecentFiles
from app.state import RunState
from engine.worker.engine_state import EngineState


class InProcessEngine:
    """EngineProcess's interface over an EngineState in this process: each poll() handles the commands sent
    and, when a run is going, advances it by one round (as the engine process does between commands)."""

    def __init__(self) -> None:
        self.starts = 0
        self.sent: list[Any] = []
        self._results: list[Any] = []
        self._pending: list[Any] = []
        self.state: EngineState | None = None

    def start(self) -> None:
        self.state = EngineState(self._results.append)
        self._results.append(self.state.ready())
        self.starts += 1

    restart = start

    @property
    def alive(self) -> bool:
        return self.state is not None

    exit_code = None
    silent_seconds = 0.0

    def send(self, command: Any) -> None:
        self.sent.append(command)
        self._pending.append(command)

    def poll(self, budget_seconds: float = 0.0) -> list[Any]:
        while self._pending:
            self.state.handle(self._pending.pop(0))
        if self.state is not None and self.state.running:
            self.state.advance()
        results, self._results[:] = list(self._results), []
        return results

    def stop(self) -> None:
        self.state = None


def settle(controller: Controller, max_polls: int = 2000) -> None:
    """Polls until the engine has nothing left to do."""
    for _ in range(max_polls):
        controller.poll()
        engine = controller.engine
        if not engine._pending and not engine.state.running and not engine._results:
            controller.poll()
            return
    raise AssertionError("the engine did not settle")


@pytest.fixture
def controller(tmp_path) -> Controller:
    c = Controller(InProcessEngine(), recent=RecentFiles(tmp_path / "recent.json"))
    c.start()
    c.state.settings.max_iterations = 12
    return c


@pytest.fixture
def solved(controller) -> Controller:
    """pose6d's built-in mesh, a random observation, nmr and feedback run to the end."""
    controller.state.settings.solvers = ["nmr", "feedback"]
    controller.load_input("mesh", None)
    controller.new_observation()
    settle(controller)
    controller.run()
    settle(controller)
    assert controller.state.run_state == RunState.IDLE and controller.state.all_finished
    return controller


@pytest.fixture
def window():
    """A Dear PyGui context with a texture registry (yielded) and a window 'test.window', without a viewport:
    the views' logic without a display."""
    dpg.create_context()
    with dpg.texture_registry() as registry:
        pass
    with dpg.window(tag="test.window"):
        pass
    dpg.setup_dearpygui()
    yield registry
    dpg.destroy_context()
