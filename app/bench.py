"""`feedbacklab bench gui`: the app's frame rate with the engine idle, while solvers run, and while the
timeline is scrubbed back and forth over stored iterations; each frame's time is split into the app's own
work (results and view updates) and rendering (Dear PyGui drawing and GL). An empty Dear PyGui window of the
same size, measured first in the same run, gives the frame rate this display and OpenGL allow at all."""
from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any, Callable

import dearpygui.dearpygui as dpg
import numpy as np

from .display import default_window, screen_size
from .main import App
from .state import RunState

IDLE_SECONDS = 3.0
SCRUB_SECONDS = 4.0
RUN_TIMEOUT = 300.0


def _measure(app: App, until: Callable[[], bool], timeout: float, each_frame: Callable[[], None] | None = None
             ) -> dict[str, float]:
    frames, work = [], []
    deadline = time.monotonic() + timeout
    last = time.perf_counter()
    while not until() and time.monotonic() < deadline:
        if each_frame is not None:
            each_frame()
        app.frame()
        now = time.perf_counter()
        frames.append(now - last)
        work.append(app.last_work_seconds)
        last = now
    return _frame_stats(frames, work)


def _frame_stats(frames: list[float], work: list[float]) -> dict[str, float]:
    """Frame and app-work times in seconds to the report's figures; the first frame (a warm-up) is left out."""
    frames_ms, work_ms = np.array(frames[1:]) * 1e3, np.array(work[1:]) * 1e3
    return {"frames": int(len(frames_ms)), "fps_mean": float(1e3 / frames_ms.mean()),
            "fps_worst_5pct": float(1e3 / np.percentile(frames_ms, 95)),
            "frame_ms_max": float(frames_ms.max()), "app_work_ms_mean": float(work_ms.mean()),
            "app_work_ms_max": float(work_ms.max()), "render_ms_mean": float(frames_ms.mean() - work_ms.mean())}


def empty_window(viewport: tuple[int, int], seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """Frame times of a window holding one line of text: drawing that costs the same in any app."""
    dpg.create_context()
    try:
        with dpg.window(tag="empty"):
            dpg.add_text("empty window")
        dpg.create_viewport(title="feedbacklab bench", width=viewport[0], height=viewport[1], x_pos=0, y_pos=0)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window("empty", True)
        frames = []
        started = last = time.perf_counter()
        while last - started < seconds:
            dpg.render_dearpygui_frame()
            now = time.perf_counter()
            frames.append(now - last)
            last = now
    finally:
        dpg.destroy_context()
    return _frame_stats(frames, [0.0] * len(frames))


def _in_own_process(function: Callable[..., Any], *args: Any) -> Any:
    """function(*args) in a process of its own: Dear PyGui's GLFW window outlives its context, and events it still
    gets once another context draws (the pointer entering it) crash Dear PyGui (in its cursor-enter callback), so
    the app's window must be its process's only one."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def frame_rate_benchmark(solvers: tuple[str, ...], viewport: tuple[int, int] | None = None) -> dict[str, Any]:
    """viewport: the window's size; None: the app's default on this screen."""
    viewport = viewport or default_window(screen_size())
    empty = _in_own_process(empty_window, viewport)
    app = App(viewport=viewport)
    app.open()
    try:
        c, state = app.controller, app.state
        state.settings.solvers = list(solvers)
        c.load_default_inputs()
        c.new_observation()
        app.frame_until(lambda: state.observation is not None, "observation")
        started = time.monotonic()
        idle = _measure(app, lambda: time.monotonic() - started > IDLE_SECONDS, IDLE_SECONDS + 1)
        c.run()
        running = _measure(app, lambda: state.run_state == RunState.IDLE and state.all_finished, RUN_TIMEOUT)
        length = state.timeline_length
        positions = iter(np.concatenate([np.arange(length), np.arange(length)[::-1]] * 1000))
        started = time.monotonic()
        scrubbing = _measure(app, lambda: time.monotonic() - started > SCRUB_SECONDS, SCRUB_SECONDS + 1,
                             lambda: c.scrub(int(next(positions))))
        return {"solvers": list(solvers), "viewport": list(viewport), "timeline": length, "device": state.engine_device,
                "empty window": empty, "idle": idle, "running": running, "scrubbing": scrubbing}
    finally:
        app.close()


def format_report(report: dict[str, Any]) -> str:
    width, height = report["viewport"]
    lines = [f"app frame rate at {width}x{height}, solvers {', '.join(report['solvers'])} "
             f"({report['timeline']} timeline positions, engine on {report['device']})",
             "| phase | frames | fps mean | fps worst 5% | app work ms mean / max | render ms mean |",
             "|---|---|---|---|---|---|"]
    for phase in ("empty window", "idle", "running", "scrubbing"):
        r = report[phase]
        lines.append(f"| {phase} | {r['frames']} | {r['fps_mean']:.1f} | {r['fps_worst_5pct']:.1f} | "
                     f"{r['app_work_ms_mean']:.1f} / {r['app_work_ms_max']:.1f} | {r['render_ms_mean']:.1f} |")
    return "\n".join(lines)


