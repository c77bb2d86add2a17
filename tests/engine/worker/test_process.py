from __future__ import annotations

import pytest

from engine.worker import protocol as p
from engine.worker.process import EngineProcess, engine_threads


@pytest.fixture
def engine():
    process = EngineProcess("cpu")
    process.start()
    yield process
    process.stop()


def test_commands_and_results_cross_the_process(engine):
    assert engine.wait_for(p.Ready)[-1].device == "cpu"
    engine.send(p.LoadMesh("table-4"))
    engine.send(p.NewObservation(seed=1, image_size=64))
    engine.send(p.Run(("nmr", "regression"), {"max_iterations": 3}))
    results = engine.wait_for(p.RunFinished)
    assert [type(r).__name__ for r in results[:3]] == ["MeshLoaded", "ObservationReady", "RunStarted"]
    failed = [r for r in results if isinstance(r, p.SolverFailed)]
    assert len(failed) == 1 and "128 px" in failed[0].message  # the shipped network was trained on 128 px
    assert [r.index for r in results if isinstance(r, p.IterationDone)] == [0, 1, 2, 3]  # nmr went on


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
