"""Switching problems: the app follows the engine from pose6d to a second problem (the toy problem of
tests/app/toy_problem.py) and back, and nothing of the previous problem stays; sessions carry their problem."""
from __future__ import annotations

import numpy as np
import pytest

from app.state import RunState

from . import toy_problem
from .conftest import settle


@pytest.fixture
def toy(monkeypatch) -> None:
    toy_problem.register(monkeypatch)


def _solve(controller) -> None:
    controller.new_observation()
    settle(controller)
    controller.run()
    settle(controller)
    assert controller.state.run_state == RunState.IDLE and controller.state.all_finished


def _nothing_of_the_last_problem(controller, name: str) -> None:
    state, engine = controller.state, controller.engine.state
    assert state.problem == engine.spec.name == name
    assert state.traces == {} and state.inputs == {} and state.observation is None and state.x0 is None
    assert state.energy_slice is None and state.teach_solver is None and state.cursor == 0
    assert engine.inputs == {} and engine.observation is None and not engine.runs
    offered = {entry.name for entry in state.spec.solvers}
    assert state.settings.solvers and set(state.settings.solvers) <= offered


def test_switch_to_a_second_problem_and_back(toy, controller, tmp_path):
    state = controller.state
    state.settings.solvers = ["nmr"]
    controller.state.settings.max_iterations = 3
    controller.load_input("mesh", "chair-2")
    _solve(controller)
    assert "toy" in state.problems

    controller.set_problem("toy")
    controller.answer("discard")  # the nmr run was not saved
    settle(controller)
    _nothing_of_the_last_problem(controller, "toy")
    assert state.settings.solvers == ["gd"] and state.config == {"scale": 1.0, "samples_spread": 1.0}

    controller.state.settings.max_iterations = 30
    controller.load_input("offset", "0.5")
    _solve(controller)
    record = state.traces["gd"].at(state.cursor)
    assert record.prediction.shape == (3,) and record.prediction.dtype == np.float32
    assert record.info == {"step_size": pytest.approx(0.1)} and set(record.metrics) == {"distance", "residual"}
    assert state.inputs["offset"].name == "offset 0.5"
    controller.compute_energy_slice()  # default axes and spans from the toy's SliceAxis entries
    settle(controller)
    assert state.energy_slice.axes == ("a", "b") and state.energy_slice.energy.shape == (15, 15)
    session = str(tmp_path / "toy.npz")
    controller.save_session(session)

    controller.set_config("scale", 2.0)  # same problem, other config: the run goes, what fits stays
    settle(controller)  # (saved just now: nothing to ask)
    assert state.config["scale"] == 2.0 and controller.engine.state.config.scale == 2.0
    assert state.traces == {} and state.inputs["offset"].name == "offset 0.5" and state.observation is not None
    controller.set_config("scale", "big")
    assert state.last_message.error and "--scale 'big': expected a number" in state.last_message.text

    controller.set_problem("pose6d")
    settle(controller)  # (the run was dropped with the config change)
    _nothing_of_the_last_problem(controller, "pose6d")
    state.settings.max_iterations = 2
    _solve(controller)  # the built-in mesh again, not chair-2
    assert controller.engine.state.inputs == {} and list(state.traces) == ["nmr", "softras"]  # its defaults

    controller.open_session(session)  # the toy session brings its problem, input and observation back
    controller.answer("discard")
    settle(controller)
    engine = controller.engine.state
    assert state.problem == engine.spec.name == "toy" and engine.inputs == {"offset": 0.5}
    assert state.config["scale"] == 1.0 and engine.config.scale == 1.0
    assert np.allclose(engine.observation[0].numpy(), state.observation.observation)
    assert list(state.traces) == ["gd"] and not state.unsaved_work
    controller.run()
    settle(controller)
    assert state.all_finished


def test_bad_problem_keeps_what_the_app_had(toy, controller):
    controller.new_observation()
    settle(controller)
    observation = controller.state.observation
    controller._send(__import__("engine.worker.protocol", fromlist=["SetProblem"]).SetProblem("nope"))
    settle(controller)
    state = controller.state
    assert state.last_message.error and "unknown problem 'nope'" in state.last_message.text
    assert state.problem == "pose6d" and state.observation is observation
    controller.observation_from_text("1,2,3")
    assert "7 finite numbers" in state.last_message.text and state.observation is observation


def test_sessions_of_the_first_app_open_as_pose6d(toy, solved, tmp_path):
    """A version 1 session (pose6d, mesh attached, renderings as uint8) opens, even from another problem."""
    state = solved.state
    comparison = state.comparison()
    mesh = state.inputs["mesh"]
    comparison.meta.update({"format": "feedbacklab-app-session", "version": 1, "mesh": mesh.name,
                            "settings": {"solvers": ["nmr"], "max_iterations": 12, "learning_rate": None,
                                         "image_size": 128, "seed": 1}, "cursor": 2, "has_run": True})
    comparison.attachments = {"mesh_vertices": mesh.arrays["vertices"], "mesh_faces": mesh.arrays["faces"]}
    comparison.config = {}
    path = tmp_path / "v1.npz"
    comparison.save(path)
    solved.set_problem("toy")
    solved.answer("discard")
    settle(solved)
    solved.open_session(str(path))
    settle(solved)
    assert state.problem == "pose6d" and state.inputs["mesh"].name == mesh.name and state.cursor == 2
    assert state.config["image_size"] == 128 and list(state.traces) == ["nmr", "feedback"]
    assert solved.engine.state.spec.name == "pose6d" and solved.engine.state.inputs["mesh"].name == mesh.name
