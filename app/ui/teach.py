"""Teaching: where the selected solver is in its feedback loop (the forward process f(x_t), the comparison
with the observation, the update; Alg. 1 of Deep Feedback Inverse Problem Solver) with its update rule and
step information from the problem's spec, and a 2D slice of the energy over two of the problem's slice axes
around its estimate with every solver's path drawn across it."""
from __future__ import annotations

from typing import Any, Callable

import dearpygui.dearpygui as dpg
import numpy as np

from engine.energy_slice import slice_coordinates
from engine.problems.spec import ProblemSpec

from ..state import TEACH_PHASES, AppState
from .columns import info_text
from .textures import BLANK, TexturePool

ACTIVE = (250, 196, 60)
PATH_COLOURS = ((255, 255, 255), (255, 120, 80), (90, 220, 255), (255, 90, 200), (160, 255, 120), (255, 230, 90))
"""Bright lines that stand out on the viridis slice, one per solver column."""
INACTIVE = (150, 150, 158)
PICTURE_WIDTH = 140


def update_rule(spec: ProblemSpec, solver: str) -> str:
    """How the solver turns its feedback into an update, in one line (from its SolverEntry)."""
    try:
        entry = spec.solver(solver)
    except ValueError:
        return ""
    return f"{entry.kind}: {entry.update_rule or entry.description}"


def phase_lines(state: AppState) -> list[str]:
    """Alg. 1 with the selected solver's values at the cursor, one line per phase."""
    spec = state.spec
    label = spec.prediction_label
    trace = state.traces.get(state.teach_solver or "")
    if trace is None or not len(trace):
        return [f"1 forward  p_t = f(x_t)   (the {label})", "2 compare  E_t = E(p_t, y)",
                "3 update   x_t+1 = x_t (+) dx_t"]
    record = trace.at(state.cursor)
    following = trace.at(state.cursor + 1)
    update = following.update if following.index > record.index else np.zeros_like(record.update)
    t = record.index
    shape = "x".join(str(size) for size in np.shape(record.prediction))
    step = [info_text(key, value) for key, value in record.info.items()]  # the step made at x_t (LM: damping)
    lines = [
        f"1 forward  p_{t} = f(x_{t})   (the {label}, {shape})",
        f"2 compare  E_{t} = E(p_{t}, y) = {record.energy:.4e}",
        f"3 update   x_{t + 1} = x_{t} (+) dx_{t},  |dx_{t}| = {np.linalg.norm(update):.4f}\n"
        f"           {update_rule(spec, trace.solver)}",
    ]
    if step:
        lines[2] += "\n           this step: " + ", ".join(step)
    return lines


class TeachPanel:
    def __init__(self, on_next_phase: Callable[[], None], on_solver: Callable[[str], None],
                 on_slice: Callable[[tuple[str, str]], None], textures: TexturePool,
                 picture: Callable[[Any, Any, Any, dict[str, Any]], np.ndarray]):
        """picture(panel, record, observation, config): a solver column's picture (drawn once, shared with the
        columns)."""
        self.on_next_phase, self.on_solver, self.on_slice = on_next_phase, on_solver, on_slice
        self.textures, self.picture = textures, picture
        self._pictures_drawn: tuple | None = None
        self._pictures_of: str | None = None
        self._paths: list[int | str] = []
        self._heat: int | str | None = None
        self._drawn_version = -1
        self._slice_drawn: object = None
        self._axes_of: str | None = None
        self._axis_keys: dict[str, str] = {}
        """Axis label shown in the combos -> SliceAxis key."""

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
                    dpg.add_text("", tag=f"teach.phase{index}", wrap=600)
                dpg.add_group(horizontal=True, tag="teach.pictures")
            with dpg.child_window(width=-1, height=-1, border=False):
                with dpg.group(horizontal=True):
                    dpg.add_text("energy slice over")
                    dpg.add_combo([], tag="teach.axis0", width=190)
                    dpg.add_combo([], tag="teach.axis1", width=190)
                    dpg.add_button(label="compute around the estimate", tag="teach.slice", callback=self._slice)
                with dpg.group(horizontal=True):
                    with dpg.plot(tag="teach.plot", height=-1, width=-70):
                        dpg.add_plot_legend()
                        dpg.add_plot_axis(dpg.mvXAxis, tag="teach.x")
                        dpg.add_plot_axis(dpg.mvYAxis, tag="teach.y")
                    dpg.add_colormap_scale(tag="teach.scale", height=-1, width=60, colormap=dpg.mvPlotColormap_Viridis)
                dpg.bind_colormap("teach.plot", dpg.mvPlotColormap_Viridis)

    def _slice(self) -> None:
        keys = self._axis_keys
        self.on_slice((keys.get(dpg.get_value("teach.axis0"), ""), keys.get(dpg.get_value("teach.axis1"), "")))

    def _build_axes(self, spec: ProblemSpec) -> None:
        labels = [axis.label for axis in spec.slice_axes]
        self._axis_keys = {axis.label: axis.key for axis in spec.slice_axes}
        for index in range(2):
            dpg.configure_item(f"teach.axis{index}", items=labels)
            dpg.set_value(f"teach.axis{index}", labels[index] if index < len(labels) else "")
        dpg.configure_item("teach.slice", enabled=len(labels) >= 2)
        self._axes_of = spec.name

    def refresh(self, state: AppState) -> None:
        if state.version == self._drawn_version:
            return
        self._drawn_version = state.version
        if state.problem != self._axes_of:
            self._build_axes(state.spec)
        dpg.configure_item("teach.solver", items=list(state.traces))
        dpg.set_value("teach.solver", state.teach_solver or "")
        for index, line in enumerate(phase_lines(state)):
            dpg.set_value(f"teach.phase{index}", ("> " if index == state.teach_phase else "  ") + line)
            dpg.configure_item(f"teach.phase{index}", color=ACTIVE if index == state.teach_phase else INACTIVE)
        self._refresh_pictures(state)
        self._refresh_slice(state)

    def _build_pictures(self, spec: ProblemSpec) -> None:
        """y, then the selected solver's pictures of x_t (the problem's panels)."""
        dpg.delete_item("teach.pictures", children_only=True)
        for key, title in (("y", "y: the observation"), *((panel.key, panel.title) for panel in spec.panels)):
            with dpg.group(parent="teach.pictures"):
                dpg.add_text(title if len(title) < 22 else title[:20] + "...", color=INACTIVE)
                dpg.add_image(BLANK, tag=f"teach.picture.{key}", width=PICTURE_WIDTH, height=PICTURE_WIDTH,
                              show=False)
        self._pictures_of, self._pictures_drawn = spec.name, None

    def _refresh_pictures(self, state: AppState) -> None:
        spec = state.spec
        if state.problem != self._pictures_of:
            self._build_pictures(spec)
        trace = state.traces.get(state.teach_solver or "")
        record = trace.at(state.cursor) if trace is not None and len(trace) else None
        observation = state.observation
        drawn = self._pictures_drawn
        if drawn is not None and drawn[0] is record and drawn[1] is observation:
            return
        self._pictures_drawn = (record, observation)
        if observation is None:
            for key in ("y", *(panel.key for panel in spec.panels)):
                dpg.configure_item(f"teach.picture.{key}", show=False)
            return
        if spec.draw_observation is not None:
            self.textures.show("teach.picture.y", "teach.y", spec.draw_observation(observation.observation),
                               PICTURE_WIDTH)
        for panel in spec.panels:
            if record is None:
                dpg.configure_item(f"teach.picture.{panel.key}", show=False)
            else:
                self.textures.show(f"teach.picture.{panel.key}", f"teach.{panel.key}",
                                   self.picture(panel, record, observation, state.config), PICTURE_WIDTH)

    def _refresh_slice(self, state: AppState) -> None:
        result = state.energy_slice
        if result is None:
            self._clear_paths()
            if self._heat is not None:
                dpg.delete_item(self._heat)
                self._heat = None
            self._slice_drawn = None
            return
        spec = state.spec
        axes = (spec.slice_axis(result.axes[0]), spec.slice_axis(result.axes[1]))
        if self._slice_drawn is not result:
            self._draw_heat(result, axes)
            self._slice_drawn = result
        self._clear_paths()
        for column, (name, trace) in enumerate(state.traces.items()):
            if not len(trace):
                continue
            end = trace.at(state.cursor).index
            path = np.stack([record.x for record in trace.records[: end + 1]])
            points = slice_coordinates(path, result.center, axes)
            series = dpg.add_line_series(points[:, 0].tolist(), points[:, 1].tolist(), label=name, parent="teach.y")
            dpg.bind_item_theme(series, self._path_themes[column % len(self._path_themes)])
            self._paths.append(series)

    def _draw_heat(self, result, axes) -> None:
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
        for tag, axis in zip(("teach.x", "teach.y"), axes):
            dpg.configure_item(tag, label=f"{axis.label} ({axis.unit})" if axis.unit else axis.label)
        dpg.set_axis_limits("teach.x", float(first[0]), float(first[-1]))
        dpg.set_axis_limits("teach.y", float(second[0]), float(second[-1]))

    def _clear_paths(self) -> None:
        for item in self._paths:
            dpg.delete_item(item)
        self._paths = []
