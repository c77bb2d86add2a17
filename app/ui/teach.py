"""Teaching: where the selected solver is in its feedback loop (render, compare, update; Alg. 1 of Deep
Feedback Inverse Problem Solver), and a 2D slice of the data energy around its estimate with every solver's
path drawn across it."""
from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg
import numpy as np

from engine.energy_slice import SLICE_AXES, slice_coordinates
from engine.visuals import difference_image

from ..state import TEACH_PHASES, AppState
from .textures import TexturePool

ACTIVE = (250, 196, 60)
PATH_COLOURS = ((255, 255, 255), (255, 120, 80), (90, 220, 255), (255, 90, 200), (160, 255, 120), (255, 230, 90))
"""Bright lines that stand out on the viridis slice, one per solver column."""
INACTIVE = (150, 150, 158)
SMALL = 112


def update_rule(solver: str) -> str:
    """How the solver turns its feedback into an update, in one line."""
    if solver.startswith(("feedback", "regression")):
        return "dx_t = N_t(y, f(x_t), x_t)   (a trained network reads the feedback)"
    if "lbfgs" in solver:
        return "dx_t from L-BFGS on dE/dx   (gradient through the differentiable renderer)"
    return "dx_t = -Adam(dE/dx)   (gradient through the differentiable renderer)"


def phase_lines(state: AppState) -> list[str]:
    """Alg. 1 with the selected solver's values at the cursor, one line per phase."""
    trace = state.traces.get(state.teach_solver or "")
    if trace is None or not len(trace):
        return ["1 render   r_t = f(x_t)", "2 compare  E_t = E(r_t, y)", "3 update   x_t+1 = x_t + dx_t"]
    record = trace.at(state.cursor)
    following = trace.at(state.cursor + 1)
    update = following.update if following.index > record.index else np.zeros_like(record.update)
    t = record.index
    return [
        f"1 render   r_{t} = f(x_{t})   ({record.rendering.shape[0]} px silhouette, below)",
        f"2 compare  E_{t} = E(r_{t}, y) = {record.energy:.4e}   (difference, below)",
        f"3 update   x_{t + 1} = x_{t} + dx_{t},  |dx_{t}| = {np.linalg.norm(update):.4f}\n"
        f"           {update_rule(trace.solver)}",
    ]


class TeachPanel:
    def __init__(self, textures: TexturePool, on_next_phase: Callable[[], None], on_solver: Callable[[str], None],
                 on_slice: Callable[[tuple[str, str]], None]):
        self.textures = textures
        self.on_next_phase, self.on_solver, self.on_slice = on_next_phase, on_solver, on_slice
        textures.add("tex.teach.estimate")
        textures.add("tex.teach.difference")
        self._paths: list[int | str] = []
        self._heat: int | str | None = None
        self._drawn_version = -1
        self._slice_drawn: object = None

    def build(self, parent: int | str) -> None:
        self._path_themes = []
        for colour in PATH_COLOURS:
            with dpg.theme() as theme:
                with dpg.theme_component(dpg.mvLineSeries):
                    dpg.add_theme_color(dpg.mvPlotCol_Line, colour, category=dpg.mvThemeCat_Plots)
                    dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, 2.0, category=dpg.mvThemeCat_Plots)
            self._path_themes.append(theme)
        with dpg.group(horizontal=True, parent=parent):
            with dpg.child_window(width=620, height=-1, border=False):
                with dpg.group(horizontal=True):
                    dpg.add_text("solver")
                    dpg.add_combo([], tag="teach.solver", width=160, callback=lambda s, v: self.on_solver(v))
                    dpg.add_button(label="next phase", tag="teach.next", callback=lambda: self.on_next_phase())
                dpg.add_text("for t = 0, 1, ... until the energy stops improving:", color=INACTIVE)
                for index, _ in enumerate(TEACH_PHASES):
                    dpg.add_text("", tag=f"teach.phase{index}")
                with dpg.group(horizontal=True):
                    for caption, texture in (("y", "tex.observation"), ("f(x_t)", "tex.teach.estimate"),
                                             ("difference", "tex.teach.difference")):
                        with dpg.group():
                            dpg.add_text(caption, color=INACTIVE)
                            dpg.add_image(texture, width=SMALL, height=SMALL)
            with dpg.child_window(width=-1, height=-1, border=False):
                with dpg.group(horizontal=True):
                    dpg.add_text("energy slice over")
                    dpg.add_combo(SLICE_AXES, default_value="rx", tag="teach.axis0", width=60)
                    dpg.add_combo(SLICE_AXES, default_value="ry", tag="teach.axis1", width=60)
                    dpg.add_button(label="compute around the estimate", tag="teach.slice", callback=self._slice)
                with dpg.group(horizontal=True):
                    with dpg.plot(tag="teach.plot", height=-1, width=-70):
                        dpg.add_plot_legend()
                        dpg.add_plot_axis(dpg.mvXAxis, tag="teach.x", label="rx")
                        dpg.add_plot_axis(dpg.mvYAxis, tag="teach.y", label="ry")
                    dpg.add_colormap_scale(tag="teach.scale", height=-1, width=60, colormap=dpg.mvPlotColormap_Viridis)
                dpg.bind_colormap("teach.plot", dpg.mvPlotColormap_Viridis)

    def _slice(self) -> None:
        self.on_slice((dpg.get_value("teach.axis0"), dpg.get_value("teach.axis1")))

    def refresh(self, state: AppState) -> None:
        if state.version == self._drawn_version:
            return
        self._drawn_version = state.version
        dpg.configure_item("teach.solver", items=list(state.traces))
        dpg.set_value("teach.solver", state.teach_solver or "")
        for index, line in enumerate(phase_lines(state)):
            dpg.set_value(f"teach.phase{index}", ("> " if index == state.teach_phase else "  ") + line)
            dpg.configure_item(f"teach.phase{index}", color=ACTIVE if index == state.teach_phase else INACTIVE)
        trace = state.traces.get(state.teach_solver or "")
        if trace is not None and len(trace) and state.observation is not None:
            record = trace.at(state.cursor)
            self.textures.write("tex.teach.estimate", record.rendering)
            self.textures.write("tex.teach.difference", difference_image(state.observation.image, record.rendering))
        self._refresh_slice(state)

    def _refresh_slice(self, state: AppState) -> None:
        result = state.energy_slice
        if result is None:
            self._clear_paths()
            if self._heat is not None:
                dpg.delete_item(self._heat)
                self._heat = None
            self._slice_drawn = None
            return
        if self._slice_drawn is not result:
            self._draw_heat(result)
            self._slice_drawn = result
        self._clear_paths()
        for column, (name, trace) in enumerate(state.traces.items()):
            if not len(trace):
                continue
            end = trace.at(state.cursor).index
            path = np.stack([record.x for record in trace.records[: end + 1]])
            points = slice_coordinates(path, result.center, result.axes)
            series = dpg.add_line_series(points[:, 0].tolist(), points[:, 1].tolist(), label=name, parent="teach.y")
            dpg.bind_item_theme(series, self._path_themes[column % len(self._path_themes)])
            self._paths.append(series)

    def _draw_heat(self, result) -> None:
        """A plot series is rebuilt, not edited: its grid size is fixed when it is made."""
        if self._heat is not None:
            dpg.delete_item(self._heat)
        (first, second), energy = result.coordinates, result.energy
        low, high = float(energy.min()), float(energy.max())
        high = high if high > low else low + 1e-6
        # heat series rows run from the top (the largest second-axis value) down
        self._heat = dpg.add_heat_series(energy[::-1].ravel().tolist(), energy.shape[0], energy.shape[1],
                                         parent="teach.y", scale_min=low, scale_max=high, format="",
                                         bounds_min=(float(first[0]), float(second[0])),
                                         bounds_max=(float(first[-1]), float(second[-1])))
        dpg.configure_item("teach.scale", min_scale=low, max_scale=high)
        unit = {"r": "deg", "t": "m"}
        dpg.configure_item("teach.x", label=f"{result.axes[0]} ({unit[result.axes[0][0]]})")
        dpg.configure_item("teach.y", label=f"{result.axes[1]} ({unit[result.axes[1][0]]})")
        dpg.set_axis_limits("teach.x", float(first[0]), float(first[-1]))
        dpg.set_axis_limits("teach.y", float(second[0]), float(second[-1]))

    def _clear_paths(self) -> None:
        for item in self._paths:
            dpg.delete_item(item)
        self._paths = []

