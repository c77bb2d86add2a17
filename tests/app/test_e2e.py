"""The real app under Xvfb: load a mesh, run two solvers, step, scrub, export a GIF, save and reopen a
session, survive a bad file; the screenshots are not blank and change after a step."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import trimesh

DRIVER = os.path.join(os.path.dirname(__file__), "e2e_driver.py")


def _not_blank(path: str) -> np.ndarray:
    image = np.asarray(iio.imread(path))[..., :3]
    assert image.shape[0] > 400 and image.shape[1] > 600
    colours, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    # A blank or cleared window is one colour; the app's panels, images and plots cover about a fifth of it.
    assert 1.0 - counts.max() / counts.sum() > 0.1, f"{path} looks blank"
    assert len(colours) > 50, f"{path} has too few colours to be the app"
    return image


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (scripts/setup.sh installs it)")
def test_app_end_to_end(tmp_path):
    mesh_file = tmp_path / "box.obj"
    trimesh.creation.box((1.0, 0.6, 0.4)).export(mesh_file)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # this checkout's code, also when the installed package points at another one (a git worktree)
    env = dict(os.environ, FEEDBACKLAB_CONFIG_DIR=str(tmp_path / "config"), PYTHONPATH=root)
    env.pop("DISPLAY", None)
    completed = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1050x24", sys.executable, DRIVER, str(tmp_path), str(mesh_file)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    seen = json.loads(completed.stdout.strip().splitlines()[-1])

    assert seen["solvers"] == ["nmr", "feedback"]
    assert seen["steps"]["feedback"] == 5 and 1 <= seen["steps"]["nmr"] <= 40
    assert seen["after_scrub"] == [2, f"iteration 2 / {seen['steps']['nmr']}", "iteration 2 / 5"]
    assert seen["after_step_cursor"] == 3 and seen["after_back_cursor"] == 2
    assert seen["end_status"][1] == "iteration 5 / 5  done"

    before, after = _not_blank(seen["before_step"]), _not_blank(seen["after_step"])
    assert before.shape == after.shape
    assert (before != after).any(axis=2).sum() > 50, "the window did not change after a step"
    _not_blank(seen["final"])

    frames = iio.imread(seen["gif"], index=None)
    assert frames.shape[0] == seen["steps"]["nmr"] + 1
    assert seen["after_reset"] == 0 and seen["reopened_steps"] == seen["steps"]
    assert "bad.obj" in seen["bad_file_message"] and seen["error_modal_shown"]
    assert seen["mesh_after_bad_file"] == "box"
    assert seen["unsaved_before_save"] and seen["running_after_close_button"]
    assert seen["quit_question"].startswith(f"{seen['steps']['nmr'] + 1 + 6} iterations of 2 solver runs are not saved")
    assert not seen["unsaved_after_save"] and seen["closed_by_close_button"]
    assert seen["traces_after_small_image"] == 0  # the old traces went with the old observation
