"""Energy, and each of the problem's metrics that needs the ground truth (when it is known), against
iteration: one line per solver, a log-scale option, and a draggable cursor line that scrubs the timeline.
The plots are rebuilt when the problem changes (labels and units from its spec); their lines only when new
points arrived. A plot without points shows fixed, plain axes (fitting nothing on a log axis gives ticks such
as 1e-78)."""
from __future__ import annotations

import time
from typing import Callable

import dearpygui.dearpygui as dpg
import numpy as np

from engine.problems.spec import ProblemSpec

from ..state import AppState

REFRESH_SECONDS = 0.1
"""Lines are rebuilt at most this often while results stream in."""
PLOT_WIDTH = 360
EMPTY_X = (0.0, 10.0)
EMPTY_Y = {True: (1e-3, 1.0), False: (0.0, 1.0)}
"""The axes of a plot without points: iterations, and values on a log (True) or linear axis."""


def plot_series(spec: ProblemSpec) -> tuple[tuple[str, str], ...]:
    """(series name, plot title): the energy, then every metric of the spec that needs the ground truth (flags
    such as an outlier are for the summary, not for plots)."""
    return (("energy", "energy"),) + tuple(
        (metric.key, f"{metric.label} ({metric.unit})" if metric.unit else metric.label)
        for metric in spec.metrics if metric.needs_ground_truth and not metric.is_flag)


class Plots:
    def __init__(self, on_scrub: Callable[[int], None]):
        self.on_scrub = on_scrub
        self._series: dict[tuple[str, str], int | str] = {}
        self._plots: tuple[tuple[str, str], ...] = ()
        self._plots_of: str | None = None
        self._drawn: tuple = ()
        """What the lines show: (the traces, their lengths), and the scale."""
        self._drawn_at = 0.0
        self._empty: dict[int, bool] = {}
        """Plot index -> whether its axes are the fixed empty ones."""
        self._cursor_drawn = -1

    def build(self, parent: int | str) -> None:
        with dpg.group(parent=parent):
            dpg.add_checkbox(label="log scale", default_value=True, tag="plots.log", callback=self._set_scale)
            dpg.add_group(horizontal=True, tag="plots.row")

    def _build_plots(self, spec: ProblemSpec) -> None:
        dpg.delete_item("plots.row", children_only=True)
        self._series.clear()
        self._empty.clear()
        self._drawn = ()
        self._plots, self._plots_of, self._cursor_drawn = plot_series(spec), spec.name, -1
        scale = dpg.mvPlotScale_Log10 if dpg.get_value("plots.log") else dpg.mvPlotScale_Linear
        for index, (_, label) in enumerate(self._plots):
            with dpg.plot(label=label, height=-1, width=PLOT_WIDTH, tag=f"plot{index}", parent="plots.row"):
                dpg.add_plot_legend()
                dpg.add_plot_axis(dpg.mvXAxis, label="iteration", tag=f"plot{index}.x", auto_fit=True)
                dpg.add_plot_axis(dpg.mvYAxis, tag=f"plot{index}.y", auto_fit=True, scale=scale)
                dpg.add_drag_line(tag=f"plot{index}.cursor", color=(250, 250, 250, 160), vertical=True,
                                  callback=self._dragged)

    def _set_scale(self, sender, log: bool) -> None:
        for index in range(len(self._plots)):
            dpg.configure_item(f"plot{index}.y", scale=dpg.mvPlotScale_Log10 if log else dpg.mvPlotScale_Linear)
        self._empty.clear()  # the empty axes differ per scale

    def _dragged(self, sender, app_data) -> None:
        self.on_scrub(int(round(dpg.get_value(sender))))

    def refresh(self, state: AppState, force: bool = False) -> None:
        if state.problem != self._plots_of:
            self._build_plots(state.spec)
        if state.cursor != self._cursor_drawn:
            for index in range(len(self._plots)):
                dpg.set_value(f"plot{index}.cursor", float(state.cursor))
            self._cursor_drawn = state.cursor
        now = time.perf_counter()
        drawn = (id(state.traces), tuple(len(trace) for trace in state.traces.values()))
        if (drawn == self._drawn and len(self._empty) == len(self._plots)) or (
                not force and now - self._drawn_at < REFRESH_SECONDS):
            return
        self._drawn, self._drawn_at = drawn, now
        wanted = {(name, solver) for name, _ in self._plots for solver in state.traces}
        for key in list(self._series):
            if key not in wanted:
                dpg.delete_item(self._series.pop(key))
        for index, (name, _) in enumerate(self._plots):
            for solver, trace in state.traces.items():
                values = trace.series(name)
                if name != "energy" and np.isnan(values).all():
                    continue  # no ground truth: no error to plot
                key = (name, solver)
                data = [list(range(len(values))), values.tolist()]
                if key not in self._series:
                    self._series[key] = dpg.add_line_series(*data, label=solver, parent=f"plot{index}.y")
                else:
                    dpg.set_value(self._series[key], data)
            self._fit(index, any(plotted == name for plotted, _ in self._series))

    def _fit(self, index: int, has_points: bool) -> None:
        """Fixed plain axes while the plot has no points, fitted to the points once it has."""
        if self._empty.get(index) == (not has_points):
            return
        self._empty[index] = not has_points
        for axis, empty in ((f"plot{index}.x", EMPTY_X), (f"plot{index}.y", EMPTY_Y[dpg.get_value("plots.log")])):
            if has_points:
                dpg.set_axis_limits_auto(axis)
            else:
                dpg.set_axis_limits(axis, *empty)
