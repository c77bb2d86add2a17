"""The side panel: the problem (picker, inputs, settings), the observation, solvers and their options, run
controls, export, engine. Everything between the picker and the run options comes from the current problem's
spec and is rebuilt when the problem changes."""
from __future__ import annotations

from typing import Any

import dearpygui.dearpygui as dpg

from engine.problems import registry
from engine.problems.spec import ConfigField, ProblemSpec, config_fields

from ..controller import Controller
from ..state import MAX_ITERATIONS, AppState, RunState
from .dialogs import Dialogs, input_dialog, observation_dialog
from .textures import BLANK, TexturePool

WIDTH = 320
DIM = (150, 150, 158)
ERROR = (235, 120, 120)
FIELD_WIDTH = 110
MAX_SHOWN_PARAMETERS = 12
"""A ground truth with more values than this is not written out (ik's 72)."""


class Sidebar:
    def __init__(self, controller: Controller, dialogs: Dialogs, textures: TexturePool):
        self.controller, self.dialogs, self.textures = controller, dialogs, textures
        self._drawn_version = -1
        self._built_for: str | None = None
        """The problem whose widgets the panel holds."""
        self._config_drawn: dict[str, Any] | None = None
        self._observation_drawn: object = None
        self._inputs_drawn: tuple | None = None
        self._question_drawn: object = None
        """The question shown when last drawn: once it is gone, widgets show the state's values again."""

    def build(self, parent: int | str) -> None:
        c = self.controller
        with dpg.child_window(width=WIDTH, height=-1, parent=parent, tag="sidebar"):
            with dpg.group(horizontal=True):
                dpg.add_text("Problem", color=DIM)
                dpg.add_combo(list(registry.problems()), tag="side.problem", width=-1,
                              default_value=c.state.problem, callback=lambda s, v: c.set_problem(v))
            dpg.add_text("", tag="side.problem.title", wrap=WIDTH - 20)
            dpg.add_group(tag="side.problem.area")
            dpg.add_separator()
            dpg.add_input_int(label="max iterations", tag="side.max_iterations", width=FIELD_WIDTH, min_value=1,
                              max_value=MAX_ITERATIONS, min_clamped=True, max_clamped=True,
                              default_value=c.state.settings.max_iterations,
                              callback=lambda s, v: setattr(c.state.settings, "max_iterations", v))
            dpg.add_input_float(label="learning rate (0: default)", tag="side.lr", width=FIELD_WIDTH,
                                default_value=0.0, min_value=0.0, min_clamped=True, format="%.4f",
                                callback=self._learning_rate)
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
            with dpg.group(horizontal=True):
                dpg.add_text("", tag="side.engine", color=DIM)
                dpg.add_button(label="Restart engine", tag="side.restart", show=False,
                               callback=lambda: c.restart_engine())
            dpg.add_text("", tag="side.fps", color=DIM)
            dpg.add_text("", tag="side.message", wrap=WIDTH - 20)

    def _build_problem(self, spec: ProblemSpec) -> None:
        """The problem's inputs, settings, observation controls and solvers."""
        c = self.controller
        dpg.delete_item("side.problem.area", children_only=True)
        dpg.push_container_stack("side.problem.area")
        try:
            for entry in spec.inputs:
                dpg.add_text("", tag=f"side.input.{entry.key}", wrap=WIDTH - 20)
                with dpg.group(horizontal=True):
                    dpg.add_button(label=f"Open {entry.label.lower()}...", tag=f"side.input.{entry.key}.open",
                                   callback=lambda s, a, u: self.dialogs.open(u),
                                   user_data=input_dialog(spec.name, entry.key))
                    with dpg.tooltip(dpg.last_item()):
                        dpg.add_text(entry.help, wrap=360)
                    dpg.add_button(label="Built-in", tag=f"side.input.{entry.key}.default",
                                   callback=lambda s, a, u: c.load_input(u, None), user_data=entry.key)
            fields = config_fields(spec.config)
            if fields:
                with dpg.collapsing_header(label="Settings", default_open=False):
                    for field in fields:
                        self._add_field(field)
            dpg.add_separator()
            dpg.add_text("no observation", tag="side.observation", wrap=WIDTH - 20)
            dpg.add_image(BLANK, tag="side.observation.image", show=False)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Random", tag="side.random", callback=lambda: c.new_observation())
                with dpg.tooltip(dpg.last_item()):
                    dpg.add_text("forward process at a ground truth drawn by the problem's sampler")
                dpg.add_button(label="Open observation...", tag="side.observation.open",
                               callback=lambda: self.dialogs.open(observation_dialog(spec.name)))
            with dpg.group(horizontal=True, show=not spec.x_is_image):  # an image is opened, not typed
                dpg.add_input_text(tag="side.x", hint=spec.x_hint or "x", width=200)
                dpg.add_button(label="From x", tag="side.from_x",
                               callback=lambda: c.observation_from_text(dpg.get_value("side.x")))
                with dpg.tooltip(dpg.last_item()):
                    dpg.add_text(f"forward process at the typed ground truth ({spec.x_hint or 'its values'})",
                                 wrap=360)
            dpg.add_separator()
            dpg.add_text(f"Solvers ({spec.prediction_label} by each solver's forward process)", color=DIM,
                         wrap=WIDTH - 20)
            with dpg.table(header_row=False):
                dpg.add_table_column()
                dpg.add_table_column()
                for row in range(0, len(spec.solvers), 2):
                    with dpg.table_row():
                        for entry in spec.solvers[row:row + 2]:
                            dpg.add_checkbox(label=entry.name, tag=f"side.solver.{entry.name}",
                                             callback=self._solvers_changed,
                                             default_value=entry.name in c.state.settings.solvers)
                            with dpg.tooltip(dpg.last_item()):
                                dpg.add_text(f"{entry.kind}: {entry.description}", wrap=360)
        finally:
            dpg.pop_container_stack()
        self._built_for = spec.name
        self._config_drawn = self._observation_drawn = self._inputs_drawn = None

    def _add_field(self, field: ConfigField) -> None:
        """A widget for one config field; a change (Enter for typed values) sends the new config."""
        tag, label = f"side.config.{field.name}", field.name.replace("_", " ")
        send = lambda s, value, f: self.controller.set_config(f.name, value)  # noqa: E731
        if field.type is bool:
            dpg.add_checkbox(label=label, tag=tag, default_value=field.default, callback=send, user_data=field)
        elif field.type is int:
            dpg.add_input_int(label=label, tag=tag, width=FIELD_WIDTH, default_value=field.default, on_enter=True,
                              callback=send, user_data=field)
        elif field.type is float:
            dpg.add_input_float(label=label, tag=tag, width=FIELD_WIDTH, default_value=field.default,
                                on_enter=True, format="%g", callback=send, user_data=field)
        else:  # str, and tuples typed as comma-separated numbers
            dpg.add_input_text(label=label, tag=tag, width=FIELD_WIDTH, default_value=_field_text(field.default),
                               on_enter=True, callback=self._typed_field, user_data=field)
        with dpg.tooltip(tag):
            dpg.add_text(field.help or field.name, wrap=360)

    def _typed_field(self, sender, text: str, field: ConfigField) -> None:
        try:
            value = field.parse(text)
        except ValueError as error:
            self.controller.state.say(str(error), error=True)
            return
        self.controller.set_config(field.name, list(value) if isinstance(value, tuple) else value)

    def _solvers_changed(self) -> None:
        self.controller.state.settings.solvers = [
            entry.name for entry in self.controller.state.spec.solvers if dpg.get_value(f"side.solver.{entry.name}")]

    def _learning_rate(self, sender, value: float) -> None:
        self.controller.state.settings.learning_rate = value if value > 0 else None

    def refresh(self, state: AppState, fps: float) -> None:
        dpg.set_value("side.fps", f"{fps:.0f} frames per second")
        if state.version == self._drawn_version:
            return
        self._drawn_version = state.version
        spec = state.spec
        if state.question is None and self._question_drawn is not None:  # a change may have been cancelled
            dpg.set_value("side.problem", state.problem)
            self._config_drawn = None
        self._question_drawn = state.question
        if state.problem != self._built_for:
            self._build_problem(spec)
            dpg.set_value("side.problem", state.problem)
            dpg.set_value("side.problem.title", spec.title)
        if state.config != self._config_drawn:
            for field in config_fields(spec.config):
                value = state.config.get(field.name, field.default)
                dpg.set_value(f"side.config.{field.name}", _field_text(value) if field.type in (str, tuple) else value)
            self._config_drawn = dict(state.config)
        inputs = tuple(state.inputs.values())
        drawn = self._inputs_drawn
        if drawn is None or len(drawn) != len(inputs) or any(a is not b for a, b in zip(drawn, inputs)):
            for entry in spec.inputs:
                info = state.inputs.get(entry.key)
                dpg.set_value(f"side.input.{entry.key}", f"{entry.label}: " + (
                    info.description if info is not None else "built-in default"))
            self._inputs_drawn = inputs
        if state.observation is not self._observation_drawn:
            dpg.set_value("side.observation", _observation_text(spec, state))
            if state.observation is not None and spec.draw_observation is not None:
                self.textures.show("side.observation.image", "observation",
                                   spec.draw_observation(state.observation.observation), WIDTH - 30)
            else:
                dpg.configure_item("side.observation.image", show=False)
            self._observation_drawn = state.observation
        for entry in spec.solvers:
            dpg.set_value(f"side.solver.{entry.name}", entry.name in state.settings.solvers)
        dpg.set_value("side.engine", _engine_text(state))
        dpg.configure_item("side.restart", show=bool(state.engine_stopped))
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


def _engine_text(state: AppState) -> str:
    if state.engine_stopped:
        return "engine: stopped"
    if not state.engine_ready:
        return "engine: starting..."
    return f"engine: {state.engine_device}, {state.run_state.value}"


def _field_text(value: Any) -> str:
    return ",".join(f"{v:g}" for v in value) if isinstance(value, (tuple, list)) else str(value)


def _observation_text(spec: ProblemSpec, state: AppState) -> str:
    observation = state.observation
    if observation is None:
        return f"no observation ({spec.observation.description})"
    shape = "x".join(str(size) for size in observation.observation.shape)
    truth = "unknown" if observation.ground_truth is None else (
        spec.format_x(observation.ground_truth) if observation.ground_truth.size <= MAX_SHOWN_PARAMETERS
        else f"known ({observation.ground_truth.size:,} values)")
    return f"observation {shape}, {observation.source}\nground truth: {truth}"
