"""app.session's saving side: a failed save leaves the session that was there."""
from __future__ import annotations

import numpy as np

from app.session import load_session, save_session

from .conftest import settle


def test_a_failed_save_keeps_the_session_that_was_there(controller, tmp_path, full_disk):
    controller.new_observation()
    settle(controller)
    path = tmp_path / "session.npz"
    full_disk(path, lambda: save_session(str(path), controller.state), np, "savez_compressed")
    assert load_session(str(path)).observation is not None
