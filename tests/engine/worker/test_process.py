from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from engine.problems.spec import Viewpoint
from engine.worker import protocol as p
from engine.worker.process import EngineProcess, engine_threads


@pytest.fixture
def engine():
    process = EngineProcess("cpu")
    process.start()
    yield process
    process.stop()


def test_commands_and_results_cross_the_process(engine):
    ready = engine.wait_for(p.Ready)[-1]
    assert ready.device == "cpu" and "pose6d" in ready.problems
    engine.send(p.SetProblem("pose6d", {"image_size": 64}))
    engine.send(p.LoadInput("mesh", "table-4"))
    engine.send(p.NewObservation(seed=1))
    engine.send(p.Run(("nmr", "regression"), {"max_iterations": 3}))
    results = engine.wait_for(p.RunFinished)
    assert [type(r).__name__ for r in results[:4]] == ["ProblemChanged", "InputLoaded", "ObservationReady",
                                                      "RunStarted"]
    failed = [r for r in results if isinstance(r, p.SolverFailed)]
    assert len(failed) == 1 and "128 px" in failed[0].message  # the shipped network was trained on 128 px
    assert [r.index for r in results if isinstance(r, p.IterationDone)] == [0, 1, 2, 3]  # nmr went on
    estimate = next(r for r in results if isinstance(r, p.IterationDone)).x
    engine.send(p.RenderPanel("view3d", estimate, None, Viewpoint(0.5, 0.3), tag=7))
    answer = engine.wait_for(p.PanelRendered)[-1]  # drawn by pyrender in the engine process
    assert answer.request.tag == 7 and answer.error == "" and answer.image.dtype == np.uint8


def test_stop_and_restart(engine):
    engine.wait_for(p.Ready)
    first = engine.pid
    engine.restart()
    assert engine.wait_for(p.Ready) and engine.pid != first and engine.starts == 2
    engine.stop()
    assert not engine.alive and engine.poll() == []
    with pytest.raises(RuntimeError, match="not started"):
        engine.send(p.Pause())


def test_threads_leave_a_core_to_the_ui():
    assert engine_threads() >= 1


@pytest.mark.parametrize("when", ["ready", "starting"])
def test_engine_exits_when_its_app_is_killed(when):
    """An app killed without shutting its engine down leaves no engine process behind, also when it dies while
    the engine is still starting (importing torch)."""
    wait = "e.wait_for(p.Ready); " if when == "ready" else ""
    script = ("from engine.worker.process import EngineProcess\n"
              "from engine.worker import protocol as p\n"
              "import time\n"
              "if __name__ == '__main__':\n"
              f"    e = EngineProcess('cpu'); e.start(); {wait}print(e.pid, flush=True); time.sleep(600)\n")
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    engine_pid = int(app.stdout.readline())
    app.send_signal(signal.SIGKILL)
    app.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(engine_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(engine_pid, signal.SIGKILL)
    raise AssertionError("the engine outlived its app")
