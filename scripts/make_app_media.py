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
regression, feedback) on a random light over the built-in car.

Needs a display; on a headless machine:
    xvfb-run -a -s "-screen 0 1600x1050x24" .venv/bin/python scripts/make_app_media.py [--part wibergian]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import dearpygui.dearpygui as dpg
import imageio.v3 as iio
import numpy as np
from PIL import Image

from app.main import App, start_demo
from app.state import RunState
from engine.problems.registry import problems

WIBERGIAN_PROBLEMS = ("robust-mean", "tracker-fusion", "pose-from-2d")
TV_ITERATIONS = 100
"""jpeg's tv solver's own iteration count, in place of the app's default."""
LESSON_STEP = 120

GIF_WIDTH = 780
GIF_FRAME_SECONDS = 0.25
"""Seconds of the app's time between two frames of the GIF (played back at that pace too)."""


def capture(app: App, path: str) -> np.ndarray:
    app.screenshot(path)
    return np.asarray(iio.imread(path))[..., :3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs", help="output directory")
    parser.add_argument("--part", choices=("all", "wibergian", "jpeg", "illumination"), default="all", help="which pictures to make")
    parser.add_argument("--image", help="--part jpeg: the clean image (default: the built-in scene)")
    parser.add_argument("--focus", default="0.5,0.5", help="--part jpeg: where the zoom looks, x,y fractions")
    args = parser.parse_args()
    if args.part == "wibergian":
        wibergian_pictures(args.out)
        return
    if args.part == "illumination":
        illumination_picture(args.out)
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


def illumination_picture(out: str) -> None:
    app = solved("illumination", {})
    capture(app, os.path.join(out, "app-illumination.png"))
    app.close()
    print(f"wrote {out}/app-illumination.png")


if __name__ == "__main__":
    main()
