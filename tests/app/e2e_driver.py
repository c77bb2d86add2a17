"""Drives the real app under a display (run by test_e2e.py through xvfb-run): loads a mesh file, makes an
observation, runs two solvers through the side panel's buttons, steps, scrubs, exports a GIF, saves and
reopens the session, feeds it a bad file, and takes screenshots. Prints one JSON line of what it saw.

Usage: python e2e_driver.py OUT_DIR MESH_FILE
"""
from __future__ import annotations

import json
import os
import sys

import dearpygui.dearpygui as dpg
import imageio.v3 as iio
import numpy as np

from app.main import TITLE, App
from app.state import RunState
from x11_close import request_close

def click(tag: str, value=None) -> None:
    """Calls an item's callback as Dear PyGui would when the user clicks it or sets its value."""
    callback = dpg.get_item_callback(tag)
    if value is None:
        callback()
    else:
        dpg.set_value(tag, value)
        callback(tag, value)


def screenshot(app: App, path: str) -> str:
    app.screenshot(path)
    return path


def main(out: str, mesh_file: str) -> None:
    app = App()
    app.open()
    state, seen = app.state, {}
    app.frame_until(lambda: state.engine_ready, "engine start")
    app.dialogs.handlers["input.pose6d.mesh"](mesh_file)
    app.frame_until(lambda: "mesh" in state.inputs, "mesh")
    click("side.random")
    app.frame_until(lambda: state.observation is not None, "observation")
    for name in ("nmr", "softras", "feedback"):
        dpg.set_value(f"side.solver.{name}", name in ("nmr", "feedback"))
    click("side.max_iterations", 40)
    app.sidebar._solvers_changed()
    click("side.run")
    app.frame_until(lambda: state.run_state == RunState.IDLE and state.all_finished, "end of the run")
    seen["solvers"] = list(state.traces)
    seen["steps"] = {name: trace.last_index for name, trace in state.traces.items()}
    seen["fps"] = app.fps

    click("timeline", 2)
    app.frame()
    seen["after_scrub"] = [state.cursor, dpg.get_value("column0.status"), dpg.get_value("column1.status")]
    seen["before_step"] = screenshot(app, os.path.join(out, "before_step.png"))
    click("side.step")
    app.frame()
    seen["after_step_cursor"] = state.cursor
    seen["after_step"] = screenshot(app, os.path.join(out, "after_step.png"))
    click("side.back")
    app.frame()
    seen["after_back_cursor"] = state.cursor
    click("timeline", state.timeline_length - 1)
    app.frame()
    seen["end_status"] = [dpg.get_value("column0.status"), dpg.get_value("column1.status")]

    gif = os.path.join(out, "comparison.gif")
    app.dialogs.handlers["export"](gif)
    app.frame_until(lambda: state.export_progress is None and os.path.exists(gif), "export")
    seen["gif"] = gif

    seen["unsaved_before_save"] = state.unsaved_work
    request_close(TITLE)  # the window's close button, with runs not saved yet: the app asks, and stays
    app.frame_until(lambda: dpg.is_item_shown("unsaved.modal"), "quit question")
    seen["quit_question"] = dpg.get_value("unsaved.text")
    seen["running_after_close_button"] = app.running
    click("unsaved.cancel")
    app.frame()

    session = os.path.join(out, "session.npz")
    app.dialogs.handlers["save_session"](session)
    seen["unsaved_after_save"] = state.unsaved_work
    click("side.reset")
    app.frame()
    seen["after_reset"] = len(state.traces)
    app.dialogs.handlers["open_session"](session)
    app.frame_until(lambda: state.engine_ready and len(state.traces) == 2, "reopened session")
    seen["reopened_steps"] = {name: trace.last_index for name, trace in state.traces.items()}

    bad = os.path.join(out, "bad.obj")
    with open(bad, "w") as handle:
        handle.write("this is not a mesh\n")
    app.dialogs.handlers["input.pose6d.mesh"](bad)
    app.frame_until(lambda: state.last_message is not None and state.last_message.error, "bad-file message")
    app.frame()
    seen["bad_file_message"] = state.last_message.text
    seen["error_modal_shown"] = dpg.is_item_shown("error.modal")
    seen["mesh_after_bad_file"] = state.inputs["mesh"].name
    image = os.path.join(out, "small.png")
    picture = np.zeros((64, 64), np.uint8)
    picture[16:44, 12:52] = 255
    iio.imwrite(image, picture)
    app.dialogs.handlers["observation.pose6d"](image)  # nothing unsaved (the reopened session's runs): no question
    app.frame_until(lambda: state.observation is not None and state.observation.observation.shape == (64, 64),
                    "a 64 px observation after a run of 128 px")
    seen["traces_after_small_image"] = len(state.traces)
    click("side.run")
    app.frame_until(lambda: state.run_state == RunState.IDLE and state.all_finished, "run on the 64 px image")
    seen["final"] = screenshot(app, os.path.join(out, "final.png"))
    request_close(TITLE)  # the run on the small image is not saved: asked, then closed without saving
    app.frame_until(lambda: dpg.is_item_shown("unsaved.modal"), "quit question")
    click("unsaved.discard")
    app.frame_until(lambda: not app.running, "window closed by its close button", timeout=30)
    seen["closed_by_close_button"] = not app.running
    app.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
