"""The desktop app: one window, built once; each frame drains the engine's results, redraws what changed and
renders. `App` can be driven frame by frame (scripts, tests) or run until the window closes."""
from __future__ import annotations

import collections
import os
import signal
import time
from typing import Callable

import dearpygui.dearpygui as dpg

from engine.demo import DEMO_PROBLEM, DEMO_SOLVERS
from engine.problems import registry

from .controller import Controller
from .display import default_window, screen_size
from .recent import SESSION, file_kind
from .state import MAX_MESSAGES, AppState
from .ui.columns import SolverColumns
from .ui.dialogs import Dialogs, input_dialog, observation_dialog
from .ui.plots import Plots
from .ui.sidebar import Sidebar
from .ui.summary import SummaryTable
from .ui.learn import LearnPanel
from .ui.teach import TeachPanel
from .ui.textures import TexturePool

TITLE = "feedbacklab"
FRAME_WINDOW = 120
"""Frames over which the frame rate is averaged."""


class App:
    def __init__(self, controller: Controller | None = None, viewport: tuple[int, int] | None = None):
        """viewport: the window's size; None: sized to the screen (display.default_window)."""
        self.controller = controller or Controller()
        self.viewport = viewport or default_window(screen_size())
        self.frame_times: collections.deque[float] = collections.deque(maxlen=FRAME_WINDOW)
        self.last_work_seconds = 0.0
        """The app's own work in the last frame (engine results and view updates), without rendering."""
        self._last_frame = time.perf_counter()
        self._messages_shown = 0
        self._recent_drawn: tuple = ()
        self._timeline_drawn: tuple = ()
        self._question_shown: object = None

    @property
    def state(self) -> AppState:
        return self.controller.state

    # --- lifecycle ---

    def open(self) -> None:
        """Creates the window and starts the engine."""
        dpg.create_context()
        c = self.controller
        with dpg.texture_registry() as textures:
            self.textures = TexturePool(textures)
        handlers: dict[str, Callable[[str], None]] = {
            "open_session": c.open_session, "save_session": c.save_session, "export": c.export}
        for name, spec in registry.problems().items():
            handlers[observation_dialog(name)] = c.open_observation
            for entry in spec.inputs:
                handlers[input_dialog(name, entry.key)] = lambda path, key=entry.key: c.load_input(key, path)
        self.dialogs = Dialogs(handlers, c.answer, c.save_cancelled)
        self.sidebar = Sidebar(c, self.dialogs, self.textures)
        self.columns = SolverColumns(self.textures, c.set_orbit)
        self.plots = Plots(c.scrub)
        self.summary = SummaryTable()
        self.teach = TeachPanel(c.teach_step, self._teach_solver, self._energy_slice, self.textures,
                                self.columns.picture)
        self.learn = LearnPanel(c.learn, c.lesson_step, self.textures)
        self._build()
        dpg.bind_theme(_no_overdraw_theme())
        # The close button asks first when runs are unsaved: it calls request_quit instead of closing.
        dpg.create_viewport(title=TITLE, width=self.viewport[0], height=self.viewport[1], x_pos=0, y_pos=0,
                            disable_close=True)
        dpg.set_exit_callback(self.request_quit)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window("main", True)
        c.start()

    def _build(self) -> None:
        self.dialogs.build()
        with dpg.window(tag="main"):
            self._menu()
            with dpg.group(horizontal=True):
                self.sidebar.build(dpg.last_container())
                with dpg.group(tag="workspace"):
                    with dpg.group(horizontal=True):
                        dpg.add_text("t = 0 / 0", tag="timeline.label")
                        dpg.add_slider_int(tag="timeline", width=-1, min_value=0, max_value=0,
                                           callback=lambda s, v: self.controller.scrub(v))
                    with dpg.child_window(height=600, tag="columns", horizontal_scrollbar=True, border=False):
                        self.columns.build("columns")
                    with dpg.tab_bar(tag="tabs"):
                        with dpg.tab(label="Plots", tag="tab.plots"):
                            self.plots.build("tab.plots")
                        with dpg.tab(label="Summary", tag="tab.summary"):
                            self.summary.build("tab.summary")
                        with dpg.tab(label="Teach", tag="tab.teach"):
                            self.teach.build("tab.teach")
                        with dpg.tab(label="Learn", tag="tab.learn"):
                            self.learn.build("tab.learn")
                        with dpg.tab(label="Log", tag="tab.log"):
                            dpg.add_child_window(tag="log", height=-1)
        with dpg.handler_registry():
            dpg.add_key_press_handler(dpg.mvKey_Right, callback=self._key(self.controller.step_forward))
            dpg.add_key_press_handler(dpg.mvKey_Left, callback=self._key(self.controller.step_back))
            dpg.add_mouse_move_handler(callback=lambda: self.controller.point_at(self.columns.pointed(self.state.spec)))
            dpg.add_mouse_click_handler(dpg.mvMouseButton_Left, callback=self._maybe_begin_orbit)
            dpg.add_mouse_drag_handler(dpg.mvMouseButton_Left,
                                       callback=lambda sender, data: self.controller.drag_orbit(data[1], data[2]))
            dpg.add_mouse_release_handler(dpg.mvMouseButton_Left, callback=lambda: self.controller.end_orbit())

    def _maybe_begin_orbit(self) -> None:
        """A press on a rendered picture starts turning the orbit (the drag handler's deltas count from it)."""
        if self.columns.over_rendered(self.state.spec):
            self.controller.begin_orbit()

    def _key(self, action: Callable[[], None]) -> Callable:
        """A shortcut that does nothing while the user types in a text field."""
        def handler(sender, app_data) -> None:
            if not dpg.is_any_item_active():
                action()
        return handler

    def _menu(self) -> None:
        c = self.controller
        with dpg.menu_bar():
            with dpg.menu(label="File"):
                dpg.add_menu_item(label="Open observation...",
                                  callback=lambda: self.dialogs.open(observation_dialog(self.state.problem)))
                dpg.add_menu_item(label="New observation (random)", callback=lambda: c.new_observation())
                with dpg.menu(label="Recent", tag="menu.recent"):
                    pass
                dpg.add_separator()
                dpg.add_menu_item(label="Open session...", callback=lambda: self.dialogs.open("open_session"))
                dpg.add_menu_item(label="Save session...", callback=lambda: self.dialogs.open("save_session"))
                dpg.add_menu_item(label="Export GIF / MP4...", callback=lambda: self.dialogs.open("export"))
                dpg.add_separator()
                dpg.add_menu_item(label="Quit", callback=lambda: self.request_quit())
            with dpg.menu(label="Run"):
                dpg.add_menu_item(label="Run", callback=lambda: c.run())
                dpg.add_menu_item(label="Pause", callback=lambda: c.pause())
                dpg.add_menu_item(label="Step forward  (Right)", callback=lambda: c.step_forward())
                dpg.add_menu_item(label="Step back  (Left)", callback=lambda: c.step_back())
                dpg.add_menu_item(label="Cancel", callback=lambda: c.cancel())
                dpg.add_menu_item(label="Reset", callback=lambda: c.reset())
                dpg.add_separator()
                dpg.add_menu_item(label="Restart engine", callback=lambda: c.restart_engine())

    def _teach_solver(self, name: str) -> None:
        self.state.teach_solver = name
        self.state.energy_slice = None
        self.state.changed()

    def _energy_slice(self, axes: tuple[str, str]) -> None:
        self.controller.slice_axes = axes
        self.controller.compute_energy_slice()

    def request_quit(self) -> None:
        """Quit from the menu or the window's close button; asks first when computed iterations are unsaved."""
        self.controller.unless_unsaved("quitting", dpg.stop_dearpygui)

    def close(self) -> None:
        self.controller.close()
        dpg.destroy_context()

    @property
    def running(self) -> bool:
        return dpg.is_dearpygui_running()

    def run(self) -> None:
        """Frames until the window is closed."""
        try:
            while self.running:
                self.frame()
        finally:
            self.close()

    # --- frames ---

    def frame(self) -> None:
        now = time.perf_counter()
        self.frame_times.append(now - self._last_frame)
        self._last_frame = now
        self.controller.poll()
        self.refresh()
        self.last_work_seconds = time.perf_counter() - now
        dpg.render_dearpygui_frame()

    @property
    def fps(self) -> float:
        if not self.frame_times:
            return 0.0
        return len(self.frame_times) / max(sum(self.frame_times), 1e-9)

    def refresh(self) -> None:
        state = self.state
        self.textures.collect()
        self._refresh_timeline()
        self.sidebar.refresh(state, self.fps)
        self.columns.refresh(state)
        tab = self._tab_shown()  # a hidden tab is brought up to date when it is shown
        if tab == "tab.plots":
            self.plots.refresh(state)
        elif tab == "tab.summary":
            self.summary.refresh(state)
        elif tab == "tab.teach":
            self.teach.refresh(state)
        elif tab == "tab.learn":
            self.learn.refresh(state)
        self._refresh_recent()
        self._refresh_messages()
        self._refresh_question()

    def _refresh_question(self) -> None:
        question = self.state.question
        if question is not self._question_shown and self.dialogs.show_question(
                None if question is None else question.text):
            self._question_shown = question

    @staticmethod
    def _tab_shown() -> str:
        """The tag of the tab on screen (the first, plots, until one is chosen)."""
        value = dpg.get_value("tabs")
        if isinstance(value, int):
            return dpg.get_item_alias(value) if value else "tab.plots"
        return value

    def _refresh_timeline(self) -> None:
        state = self.state
        key = (state.cursor, state.timeline_length)
        if key == self._timeline_drawn:
            return
        self._timeline_drawn = key
        last = max(state.timeline_length - 1, 0)
        dpg.configure_item("timeline", max_value=last)
        dpg.set_value("timeline", state.cursor)
        dpg.set_value("timeline.label", f"t = {state.cursor} / {last}")

    def _refresh_recent(self) -> None:
        """The current problem's recent inputs and observations, and the sessions."""
        recent, c, problem = self.controller.recent, self.controller, self.state.problem
        if (recent.version, problem) == self._recent_drawn:  # rebuilt on change only: items() looks at the disk
            return
        self._recent_drawn = (recent.version, problem)
        opens: dict[str, tuple[str, Callable[[str], None]]] = {
            file_kind(problem, entry.key): (entry.label.lower(), lambda path, key=entry.key: c.load_input(key, path))
            for entry in self.state.spec.inputs}
        opens[file_kind(problem, "observation")] = ("observation", c.open_observation)
        opens[SESSION] = ("session", c.open_session)
        items = tuple((label, action, tuple(recent.items(kind))) for kind, (label, action) in opens.items())
        dpg.delete_item("menu.recent", children_only=True)
        for label, action, paths in items:
            for path in paths:
                dpg.add_menu_item(label=f"{label}: {os.path.basename(path)}", parent="menu.recent",
                                  callback=lambda s, a, u: u[0](u[1]), user_data=(action, path))
        if not any(paths for _, _, paths in items):
            dpg.add_menu_item(label="(nothing yet)", parent="menu.recent", enabled=False)

    def _refresh_messages(self) -> None:
        """New messages into the log (which keeps the last MAX_MESSAGES), the newest error in a dialog."""
        state = self.state
        new = state.messages_since(self._messages_shown)
        self._messages_shown = state.messages_said
        for message in new:
            dpg.add_text(message.text, parent="log", wrap=1100,
                         color=(235, 120, 120) if message.error else (200, 200, 200))
        for item in dpg.get_item_children("log", 1)[:-MAX_MESSAGES] if new else ():
            dpg.delete_item(item)
        newest_error = next((m for m in reversed(new) if m.error), None)
        if newest_error is not None and state.question is None:  # no modal over the question
            self.dialogs.show_error(newest_error.text)

    def frame_until(self, condition: Callable[[], bool], what: str, timeout: float = 300.0) -> None:
        """Frames until condition() holds (scripts and tests); TimeoutError naming `what` otherwise."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} within {timeout:.0f} s; last message: {self.state.last_message}")
            self.frame()

    def screenshot(self, path: str) -> None:
        """Saves the window, as the state is now, as a PNG; returns once the file is written."""
        if os.path.exists(path):
            os.remove(path)
        for _ in range(2):  # the frame buffer holds the last frame drawn, and a modal opened now shows a frame later
            self.frame()
        dpg.output_frame_buffer(file=path)
        self.frame_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, f"screenshot {path}", 30)
        for _ in range(2):  # the file is complete once the frame that wrote it has ended
            self.frame()


def _no_overdraw_theme() -> int:
    """Child windows and plots without a background fill: Dear PyGui's default child background is the window's
    own colour, so every child window (side panel, columns, log) painted the same pixels again, and each plot
    blended a dark frame and plot area over it. Without a GPU (software OpenGL) each such fill costs
    milliseconds per frame (the plots' about 15% of the idle window's); the plots now lie on the window's
    colour."""
    with dpg.theme() as theme:
        with dpg.theme_component(dpg.mvAll):
            dpg.add_theme_color(dpg.mvThemeCol_ChildBg, (0, 0, 0, 0))
            for colour in (dpg.mvPlotCol_FrameBg, dpg.mvPlotCol_PlotBg):
                dpg.add_theme_color(colour, (0, 0, 0, 0), category=dpg.mvThemeCat_Plots)
    return theme


def start_demo(controller: Controller, solvers: tuple[str, ...] | None = None, seed: int = 0) -> None:
    """The demo problem (pose6d) with its built-in inputs, an observation from a random ground truth, the demo
    solvers started."""
    state = controller.state
    if state.problem != DEMO_PROBLEM:
        raise RuntimeError(f"the demo needs the engine on {DEMO_PROBLEM}, not {state.problem}")
    state.settings.solvers = list(solvers or DEMO_SOLVERS)
    state.settings.seed = seed
    controller.load_default_inputs()
    controller.new_observation()
    controller.run_on_next_observation = True


def run_app(demo: bool = False, problem: str | None = None, inputs: dict[str, str] | None = None,
            observation: str | None = None, session: str | None = None, solvers: tuple[str, ...] | None = None,
            seed: int = 0) -> int:
    """Opens the app until its window is closed: the demo, or `problem` with `inputs` (key -> file) and an
    observation file loaded at start."""
    app = App()
    app.open()
    signal.signal(signal.SIGTERM, lambda *_: dpg.stop_dearpygui())  # close cleanly, engine included
    if demo:
        start_demo(app.controller, solvers, seed)
    else:
        if problem is not None:
            app.controller.set_problem(problem)
        for key, path in (inputs or {}).items():
            app.controller.load_input(key, path)
        if observation is not None:
            app.controller.open_observation(observation)
        if session is not None:
            app.controller.open_session(session)
    app.run()
    return 0

