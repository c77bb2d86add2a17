"""Makes the README's pictures of the app: docs/app.png (the demo after its run, scrubbed back a little),
docs/app-teach.png (the teaching panel with an energy slice), docs/app.gif (the demo while it runs),
docs/demo.gif (the demo's comparison as the app's Export writes it), and, after switching to the ik problem
in the same window, docs/app-ik.png (lbfgs, lm, the feedback network, deep6d, ikol and ikol-net on a random
pose, at step 3) and docs/app-ik-teach.png (IKOL's Gauss-Newton step at the cursor: its rule, |delta alpha|, u
and the layer's residual).

With --part wibergian it makes only the Wibergian problems' pictures, each in a fresh window:
docs/app-NAME.png for robust-mean, tracker-fusion and pose-from-2d (their default solvers on a random
observation) and docs/app-robust-mean-learn.png (the Learn tab's lesson, at training step 120).

With --part jpeg [--image FILE] it makes docs/app-jpeg.png: the jpeg problem's default solvers on the image
(default: the built-in scene) for 100 iterations (tv's own count), the zoom pointed at --focus.

With --part illumination it makes docs/app-illumination.png: the illumination problem's default solvers (nmr,
regression, feedback) on a random light over the built-in car; with --part body-keypoints,
docs/app-body-keypoints.png: lm, lbfgs and the learned fitter on random detected keypoints; with --part body-hmd,
docs/app-body-hmd.png: lbfgs-prior and the learned fitter on random headset and hand signals; with --part
face-landmarks, docs/app-face-landmarks.png: lm, lbfgs and the learned fitters on random landmarks.

With --part view3d it makes docs/app-pose6d-3d.png: the demo's solvers scrubbed back to iteration 15, each
column's 3D view from the camera, and docs/app-pose6d-orbit.png: the same after choosing the orbit and
dragging the first column's 3D picture with the mouse (real X events through XTest), which turns every column.

Needs a display; on a headless machine:
    xvfb-run -a -s "-screen 0 1600x1050x24" .venv/bin/python scripts/make_app_media.py [--part wibergian]
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import tempfile
import time

import dearpygui.dearpygui as dpg
import imageio.v3 as iio
import numpy as np
from PIL import Image

from app.main import App, start_demo
from app.rendered import picture_key
from app.state import AppState, RunState
from engine.problems.registry import problems

WIBERGIAN_PROBLEMS = ("robust-mean", "tracker-fusion", "pose-from-2d")
SOLVED_PICTURES = ("illumination", "body-keypoints", "body-hmd", "face-landmarks")
"""The --part choices that picture one problem's default solvers (problem_picture)."""
TV_ITERATIONS = 100
"""jpeg's tv solver's own iteration count, in place of the app's default."""
LESSON_STEP = 120
VIEW3D_STEP = 15
"""The demo's timeline position in the 3D view's pictures: the optimizers' estimates still off the truth."""
VIEW3D_DRAG = (-70, 40)
"""Pixels the mouse drags the first 3D picture by (left and down: the object turns left and shows its top)."""

GIF_WIDTH = 780
GIF_FRAME_SECONDS = 0.25
"""Seconds of the app's time between two frames of the GIF (played back at that pace too)."""


def capture(app: App, path: str) -> np.ndarray:
    app.screenshot(path)
    return np.asarray(iio.imread(path))[..., :3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs", help="output directory")
    parser.add_argument("--part", choices=("all", "wibergian", "jpeg", *SOLVED_PICTURES, "view3d"), default="all",
                        help="which pictures to make")
    parser.add_argument("--image", help="--part jpeg: the clean image (default: the built-in scene)")
    parser.add_argument("--focus", default="0.5,0.5", help="--part jpeg: where the zoom looks, x,y fractions")
    args = parser.parse_args()
    if args.part == "wibergian":
        wibergian_pictures(args.out)
        return
    if args.part in SOLVED_PICTURES:
        problem_picture(args.out, args.part)
        return
    if args.part == "view3d":
        view3d_pictures(args.out)
        return
    if args.part == "jpeg":
        jpeg_picture(args.out, args.image, tuple(float(v) for v in args.focus.split(",")))
        return
    app = App()
    app.open()
    state, frames = app.state, []
    start_demo(app.controller)
    app.frame_until(lambda: state.run_state == RunState.RUNNING, "run")
    with tempfile.TemporaryDirectory() as scratch:
        last = 0.0
        while not (state.run_state == RunState.IDLE and state.all_finished):
            if time.monotonic() - last > GIF_FRAME_SECONDS:
                last = time.monotonic()
                frames.append(capture(app, os.path.join(scratch, f"{len(frames)}.png")))
            app.frame()
        frames.append(capture(app, os.path.join(scratch, "end.png")))
    height = round(frames[0].shape[0] * GIF_WIDTH / frames[0].shape[1])
    small = [np.asarray(Image.fromarray(f).resize((GIF_WIDTH, height), Image.Resampling.LANCZOS)) for f in frames]
    iio.imwrite(os.path.join(args.out, "app.gif"), np.stack(small + [small[-1]] * 8),
                duration=int(GIF_FRAME_SECONDS * 1000), loop=0)

    recording = os.path.join(args.out, "demo.gif")
    app.controller.export(recording, max_frames=60)
    app.frame_until(lambda: state.export_progress is None, "export")

    app.controller.scrub(state.timeline_length // 3)
    capture(app, os.path.join(args.out, "app.png"))
    dpg.set_value("tabs", "tab.teach")
    app.controller.scrub(8)
    app.controller.slice_axes = ("ry", "tx")
    app.controller.compute_energy_slice()
    app.frame_until(lambda: state.energy_slice is not None, "energy slice")
    capture(app, os.path.join(args.out, "app-teach.png"))

    dpg.set_value("tabs", "tab.plots")
    app.controller.set_problem("ik")
    app.controller.answer("discard")  # the demo's unsaved runs: recorded above, not kept
    app.frame_until(lambda: state.problem == "ik", "switch to ik")
    app.controller.new_observation()
    app.frame_until(lambda: state.observation is not None, "ik observation")
    state.settings.solvers = ["lbfgs", "lm", "feedback", "deep6d", "ikol", "ikol-net"]
    app.controller.run()
    app.frame_until(lambda: state.run_state == RunState.IDLE and state.all_finished, "ik run")
    app.controller.scrub(3)
    capture(app, os.path.join(args.out, "app-ik.png"))
    dpg.set_value("tabs", "tab.teach")
    state.teach_solver = "ikol"
    app.controller.slice_axes = ("left_knee.rx", "left_hip.rx")
    app.controller.compute_energy_slice()
    app.frame_until(lambda: state.energy_slice is not None, "ik energy slice")
    capture(app, os.path.join(args.out, "app-ik-teach.png"))
    app.close()
    print(f"wrote {args.out}/app.png, app-teach.png, app.gif ({len(frames)} frames), demo.gif, app-ik.png and "
          "app-ik-teach.png")


def wibergian_pictures(out: str) -> None:
    app = App()
    app.open()
    state = app.state
    app.frame_until(lambda: state.engine_ready, "engine")
    for name in (name for name in WIBERGIAN_PROBLEMS if name in problems()):
        app.controller.set_problem(name)
        if state.question is not None:
            app.controller.answer("discard")  # the previous problem's runs: pictured above, not kept
        app.frame_until(lambda: state.problem == name, f"switch to {name}")
        app.controller.new_observation()
        app.frame_until(lambda: state.observation is not None, f"{name} observation")
        state.settings.solvers = list(state.spec.default_solvers)
        app.controller.run()
        app.frame_until(lambda: state.run_state == RunState.IDLE and state.all_finished, f"{name} run")
        capture(app, os.path.join(out, f"app-{name}.png"))
        if state.spec.lesson is not None:
            dpg.set_value("tabs", "tab.learn")
            app.frame()
            app.controller.learn()
            app.frame_until(lambda: state.lesson is not None, f"{name} lesson")
            app.controller.lesson_step(LESSON_STEP)
            for _ in range(3):
                app.frame()
            capture(app, os.path.join(out, f"app-{name}-learn.png"))
            dpg.set_value("tabs", "tab.plots")
    app.close()
    print(f"wrote the Wibergian problems' pictures to {out}/")


def solved(problem: str, inputs: dict[str, str], max_iterations: int | None = None) -> App:
    """A fresh window on the problem with these inputs loaded, its default solvers run on a random observation."""
    app = App()
    app.open()
    state = app.state
    app.frame_until(lambda: state.engine_ready, "engine")
    app.controller.set_problem(problem)
    app.frame_until(lambda: state.problem == problem, f"switch to {problem}")
    for key, path in inputs.items():
        app.controller.load_input(key, path)
        app.frame_until(lambda: key in state.inputs, key)
    app.controller.new_observation()
    app.frame_until(lambda: state.observation is not None, f"{problem} observation")
    state.settings.solvers = list(state.spec.default_solvers)
    if max_iterations is not None:
        state.settings.max_iterations = max_iterations
    app.controller.run()
    app.frame_until(lambda: state.run_state == RunState.IDLE and state.all_finished, f"{problem} run", 600)
    return app


def jpeg_picture(out: str, image: str | None, focus: tuple[float, float]) -> None:
    app = solved("jpeg", {} if image is None else {"image": image}, TV_ITERATIONS)
    app.controller.point_at(focus)
    capture(app, os.path.join(out, "app-jpeg.png"))
    app.close()
    print(f"wrote {out}/app-jpeg.png")


def problem_picture(out: str, problem: str) -> None:
    """docs/app-PROBLEM.png: the problem's default solvers on a random observation."""
    app = solved(problem, {})
    capture(app, os.path.join(out, f"app-{problem}.png"))
    app.close()
    print(f"wrote {out}/app-{problem}.png")


def view3d_pictures(out: str) -> None:
    app = App()
    app.open()
    state = app.state
    start_demo(app.controller)
    app.frame_until(lambda: state.run_state == RunState.RUNNING, "run")
    app.frame_until(lambda: state.run_state == RunState.IDLE and state.all_finished, "demo run", 600)
    app.controller.scrub(VIEW3D_STEP)
    app.frame_until(lambda: rendered_at_cursor(state), "3D pictures from the camera")
    capture(app, os.path.join(out, "app-pose6d-3d.png"))
    dpg.set_value("view3d.choice", "orbit")  # as a click on the radio button does
    dpg.get_item_callback("view3d.choice")("view3d.choice", "orbit")
    app.frame_until(lambda: rendered_at_cursor(state), "3D pictures from the orbit")
    before = state.orbit_view
    mouse_drag(app, "column0.image.view3d", *VIEW3D_DRAG)
    app.frame_until(lambda: rendered_at_cursor(state), "3D pictures from the turned orbit")
    capture(app, os.path.join(out, "app-pose6d-orbit.png"))
    app.close()
    print(f"wrote {out}/app-pose6d-3d.png and app-pose6d-orbit.png; the drag turned the orbit from {before} to "
          f"{state.orbit_view}")


def rendered_at_cursor(state: AppState) -> bool:
    """Every column's rendered pictures at the cursor are drawn, from the view chosen."""
    truth = state.observation.ground_truth
    return all(state.rendered.get(picture_key(panel.key, trace.at(state.cursor).x, truth, state.viewpoint)) is not None
               for trace in state.traces.values() for panel in state.spec.rendered_panels)


def mouse_drag(app: App, tag: str, dx: int, dy: int, steps: int = 12) -> None:
    """Presses the left button over the middle of an item, moves the mouse by (dx, dy) and lets go, with frames
    between the events, as a user would: X events made by the XTest extension (Xvfb has it)."""
    xlib, xtst = ctypes.CDLL(ctypes.util.find_library("X11")), ctypes.CDLL(ctypes.util.find_library("Xtst"))
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for function in (xlib.XFlush, xlib.XCloseDisplay):
        function.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
    display = xlib.XOpenDisplay(None)
    (left, top), (width, height) = dpg.get_item_rect_min(tag), dpg.get_item_rect_size(tag)
    x, y = int(left + width / 2), int(top + height / 2)  # the window sits at the screen's origin (no window manager)

    def send(event: int, *args: int) -> None:
        (xtst.XTestFakeMotionEvent if event == 0 else xtst.XTestFakeButtonEvent)(display, *args, 0)
        xlib.XFlush(display)
        for _ in range(2):
            app.frame()

    try:
        send(0, -1, x, y)
        send(1, 1, True)
        for step in range(1, steps + 1):
            send(0, -1, x + dx * step // steps, y + dy * step // steps)
        send(1, 1, False)
    finally:
        xlib.XCloseDisplay(display)


if __name__ == "__main__":
    main()
