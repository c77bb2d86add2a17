"""Sessions: a failed save leaves the session that was there; a damaged session is refused with one line before
anything the user has is replaced."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.session import SessionError, load_session, save_session

from .conftest import settle


def test_a_failed_save_keeps_the_session_that_was_there(controller, tmp_path, full_disk):
    controller.new_observation()
    settle(controller)
    path = tmp_path / "session.npz"
    full_disk(path, lambda: save_session(str(path), controller.state), np, "savez_compressed")
    assert load_session(str(path)).observation is not None


def _edit(path, change) -> None:
    """Rewrites a saved session with change(arrays, meta) applied (the way a damaged or hostile file looks)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    meta = json.loads(str(arrays.pop("meta.json")))
    change(arrays, meta)
    arrays["meta.json"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def _mesh(**arrays):
    def change(saved, meta):
        saved.update({f"attachment.input.mesh.{name}": value for name, value in arrays.items()})
    return change


def _meta(**values):
    def change(saved, meta):
        meta["meta"].update(values)
    return change


def _settings(**values):
    def change(saved, meta):
        meta["meta"]["settings"].update(values)
    return change


def _array(key, value):
    def change(saved, meta):
        saved[key] = value(saved[key])
    return change


def _cropped_images(size):
    """The observation and every trace's predictions cropped alike: a consistent file whose images do not fit the
    session's image size."""
    def change(saved, meta):
        for key in [key for key in saved if key == "observation" or key.endswith(".predictions")]:
            saved[key] = saved[key][..., :size, :size]
    return change


DAMAGE = {
    "face indices outside the vertices": (_mesh(faces=np.array([[0, 1, 10_000]])), "face indices"),
    "no faces": (_mesh(faces=np.zeros((0, 3), np.int64)), "faces"),
    "NaN vertices": (_array("attachment.input.mesh.vertices", lambda v: v * np.nan), "NaN"),
    "trace of the wrong rank": (_array("trace0.x", lambda x: x[:, 0]), "solver nmr's"),
    "predictions of another size": (_array("trace0.predictions", lambda p: p[:, :, :64, :64]), "solver nmr's"),
    "NaN estimates": (_array("trace0.x", lambda x: x * np.nan), "solver nmr's"),
    "text observation": (_array("observation", lambda o: o.astype(str)), "observation"),
    "observation of another image size": (_cropped_images(64), "image_size"),
    "observation of an odd shape": (_array("observation", lambda o: o[:, :, :100]), "observation"),
    "cursor 'abc'": (_meta(cursor="abc"), "cursor"),
    "settings of the wrong type": (_settings(max_iterations="many"), "max_iterations"),
    "unknown solver": (_settings(solvers=["nope"]), "nope"),
    "settings not a dict": (_meta(settings=[1, 2]), "settings"),
    "inputs not a dict": (_meta(inputs="mesh"), "inputs"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_session_changes_nothing(solved, tmp_path, damage):
    change, named = DAMAGE[damage]
    path = tmp_path / "session.npz"
    solved.save_session(str(path))
    _edit(path, change)
    with pytest.raises(SessionError) as error:
        load_session(str(path))
    message = str(error.value)
    assert "\n" not in message and str(path) in message and named in message, message

    state, engine = solved.state, solved.engine.state
    solved.load_input("mesh", "chair-2")  # the user's current work, not saved
    settle(solved)
    solved.run()
    settle(solved)
    traces, observation, mesh = state.traces, state.observation, state.inputs["mesh"]
    solved.open_session(str(path))
    settle(solved)
    assert state.last_message.error and str(path) in state.last_message.text
    assert state.traces is traces and state.observation is observation and state.inputs["mesh"] is mesh
    assert engine.inputs["mesh"].name == "chair-002" and state.unsaved_work


def test_a_session_the_engine_refuses_is_rolled_back(solved, tmp_path, monkeypatch):
    """Should the engine still refuse a session that passed the checks, the app takes back what it had and
    gives it to the engine again: the engine never keeps an older input under the session's name."""
    path = tmp_path / "session.npz"
    solved.save_session(str(path))
    state, engine = solved.state, solved.engine.state
    solved.load_input("mesh", "chair-2")
    settle(solved)
    observation = state.observation
    refuse = engine._on_SetInput

    def refusing(command):
        if command.name == "car-001":
            raise ValueError("mesh 'car-001' refused")
        refuse(command)

    monkeypatch.setattr(engine, "_on_SetInput", refusing)
    solved.open_session(str(path))
    settle(solved)
    assert state.inputs["mesh"].name == "chair-002" and engine.inputs["mesh"].name == "chair-002"
    assert state.traces == {} and state.observation is observation
    assert "car-001' refused" in " ".join(m.text for m in state.messages[-3:])
    solved.run()
    settle(solved)
    assert state.all_finished and engine.inputs["mesh"].name == "chair-002"
