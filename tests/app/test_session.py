"""app.session's saving side: a failed save leaves the session that was there."""
from __future__ import annotations

import numpy as np
import pytest

from app.session import SessionError, load_session, save_session

from .conftest import settle


def test_a_failed_save_keeps_the_session_that_was_there(controller, tmp_path, full_disk):
    controller.new_observation()
    settle(controller)
    path = tmp_path / "session.npz"
    save_session(str(path), controller.state)
    before = path.read_bytes()
    full_disk(np, "savez_compressed")
    with pytest.raises(SessionError, match="session.npz.*No space left"):
        save_session(str(path), controller.state)
    assert path.read_bytes() == before
    assert [file.name for file in tmp_path.iterdir() if file.name != "recent.json"] == ["session.npz"]
    assert load_session(str(path)).observation is not None
