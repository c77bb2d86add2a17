"""The side panel: problem (mesh, observation), solvers and their options, run controls, export, engine."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from engine.solvers.registry import SOLVER_FACTORIES

from ..controller import Controller
from ..state import RunState
from .dialogs import Dialogs
from .textures import DISPLAY_SIZE, TexturePool

WIDTH = 300
DIM = (150, 150, 158)
ERROR = (235, 120, 120)


class Sidebar:
    def __init__(self, controller: Controller, dialogs: Dialogs, textures: TexturePool):
        self.controller, self.dialogs, self.textures = controller, dialogs, textures
        textures.add("tex.observation")
        self._drawn_version = -1
        self._observation_drawn: object = None

    def build(self, parent: int | str) -> None:
        c = self.controller
        with dpg.child_window(width=WIDTH, height=-1, parent=parent, tag="sidebar"):
            dpg.add_text("Problem: 6-DoF pose from a silhouette", color=DIM)
            dpg.add_text("no mesh", tag="side.mesh", wrap=WIDTH - 20)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Open mesh...", callback=lambda: self.dialogs.open("mesh"))
                dpg.add_button(label="Built-in", callback=lambda: c.load_mesh(None))
            dpg.add_separator()
            dpg.add_image("tex.observation", width=DISPLAY_SIZE, height=DISPLAY_SIZE)
            dpg.add_text("no observation", tag="side.observation", wrap=WIDTH - 20)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Random pose", tag="side.random", callback=lambda: c.new_observation())
                dpg.add_button(label="Open image...", callback=lambda: self.dialogs.open("observation"))
            with dpg.group(horizontal=True):
                dpg.add_input_text(tag="side.pose", hint="qw,qx,qy,qz,tx,ty,tz", width=190)
                dpg.add_button(label="From pose", callback=self._from_pose)
            dpg.add_input_int(label="image px", tag="side.size", default_value=c.state.settings.image_size,
                              min_value=16, max_value=1024, min_clamped=True, max_clamped=True, width=120,
                              callback=lambda s, v: setattr(c.state.settings, "image_size", v))
            dpg.add_separator()
            dpg.add_text("Solvers", color=DIM)
            with dpg.table(header_row=False):
                dpg.add_table_column()
                dpg.add_table_column()
                names = list(SOLVER_FACTORIES)
                for row in range(0, len(names), 2):
                    with dpg.table_row():
                        for name in names[row:row + 2]:
                            dpg.add_checkbox(label=name, tag=f"side.solver.{name}", callback=self._solvers_changed,
                                             default_value=name in c.state.settings.solvers)
            dpg.add_input_int(label="max iterations", tag="side.max_iterations", width=120, min_value=1,
                              min_clamped=True, default_value=c.state.settings.max_iterations,
                              callback=lambda s, v: setattr(c.state.settings, "max_iterations", v))
            dpg.add_input_float(label="learning rate (0: default)", tag="side.lr", width=120, default_value=0.0,
                                min_value=0.0, min_clamped=True, format="%.4f", callback=self._learning_rate)
            dpg.add_separator()
            with dpg.group(horizontal=True):
                dpg.add_button(label="Run", tag="side.run", width=60, callback=lambda: c.run())
                dpg.add_button(label="Pause", tag="side.pause", width=60, callback=lambda: c.pause())
                dpg.add_button(label="Cancel", tag="side.cancel", width=60, callback=lambda: c.cancel())
                dpg.add_button(label="Reset", tag="side.reset", width=60, callback=lambda: c.reset())
            with dpg.group(horizontal=True):
                dpg.add_button(label="< Back", tag="side.back", width=60, callback=lambda: c.step_back())
                dpg.add_button(label="Step >", tag="side.step", width=60, callback=lambda: c.step_forward())
                dpg.add_button(label="Replay", tag="side.play", width=60, callback=lambda: c.toggle_playback())
            dpg.add_separator()
            dpg.add_button(label="Export GIF / MP4...", callback=lambda: self.dialogs.open("export"))
            dpg.add_progress_bar(tag="side.export", default_value=0.0, width=-1, show=False)
            dpg.add_separator()
            dpg.add_text("", tag="side.engine", color=DIM)
            dpg.add_text("", tag="side.fps", color=DIM)
            dpg.add_text("", tag="side.message", wrap=WIDTH - 20)

    def _from_pose(self) -> None:
        text = dpg.get_value("side.pose")
        try:
            values = tuple(float(v) for v in text.replace(" ", "").split(","))
        except ValueError:
            self.controller.state.say(f"pose {text!r} is not 7 comma-separated numbers qw,qx,qy,qz,tx,ty,tz",
                                      error=True)
            return
        self.controller.new_observation(values)

    def _solvers_changed(self) -> None:
        self.controller.state.settings.solvers = [
            name for name in SOLVER_FACTORIES if dpg.get_value(f"side.solver.{name}")]

    def _learning_rate(self, sender, value: float) -> None:
        self.controller.state.settings.learning_rate = value if value > 0 else None

    def refresh(self, state, fps: float) -> None:
        dpg.set_value("side.fps", f"{fps:.0f} frames per second")
        if state.version == self._drawn_version:
            return
        self._drawn_version = state.version
        if state.mesh is not None:
            note = f"\n{state.mesh.note}" if state.mesh.note else ""
            dpg.set_value("side.mesh", f"mesh {state.mesh.name}: {len(state.mesh.faces)} faces{note}")
        observation = state.observation
        if observation is not None and self._observation_drawn is not observation:
            self.textures.write("tex.observation", observation.image)
            size = observation.image.shape[0]
            dpg.set_value("side.observation", f"observation {size}x{size}, {observation.source}\n"
                                              f"ground truth:\n{_pose_lines(observation.ground_truth)}")
            self._observation_drawn = observation
        for name in SOLVER_FACTORIES:
            dpg.set_value(f"side.solver.{name}", name in state.settings.solvers)
        device = state.engine_device or "starting"
        dpg.set_value("side.engine", f"engine: {device}, {state.run_state.value}"
                      if state.engine_ready else "engine: starting...")
        dpg.configure_item("side.pause", enabled=state.run_state == RunState.RUNNING or state.playing)
        dpg.configure_item("side.cancel", enabled=state.run_state != RunState.IDLE)
        progress = state.export_progress
        dpg.configure_item("side.export", show=progress is not None)
        if progress is not None:
            done, total = progress
            dpg.set_value("side.export", done / max(total, 1))
            dpg.configure_item("side.export", overlay=f"recording {done}/{total}")
        message = state.last_message
        if message is not None:
            dpg.set_value("side.message", message.text)
            dpg.configure_item("side.message", color=ERROR if message.error else DIM)


def _pose_lines(pose) -> str:
    """A pose (qw,qx,qy,qz,tx,ty,tz) on two lines, or 'unknown'."""
    if pose is None:
        return "unknown"
    return "q " + " ".join(f"{v:+.3f}" for v in pose[:4]) + "\nt " + " ".join(f"{v:+.3f}" for v in pose[4:])
