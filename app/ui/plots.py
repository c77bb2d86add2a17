"""Energy, and rotation and translation error when the ground truth is known, against iteration: one line
per solver, a log-scale option, and a draggable cursor line that scrubs the timeline."""
from __future__ import annotations

import time
from typing import Callable

import dearpygui.dearpygui as dpg
import numpy as np

from ..state import AppState

SERIES = (("energy", "energy"), ("rotation_error_deg", "rotation error (deg)"),
          ("translation_error", "translation error (m)"))
REFRESH_SECONDS = 0.1
"""Lines are rebuilt at most this often while results stream in."""


class Plots:
    def __init__(self, on_scrub: Callable[[int], None]):
        self.on_scrub = on_scrub
        self._series: dict[tuple[str, str], int | str] = {}
        self._drawn_version = -1
        self._drawn_at = 0.0
        self._cursor_drawn = -1

    def build(self, parent: int | str) -> None:
        with dpg.group(parent=parent):
            dpg.add_checkbox(label="log scale", default_value=True, tag="plots.log", callback=self._set_scale)
            with dpg.group(horizontal=True):
                for name, label in SERIES:
                    with dpg.plot(label=label, height=-1, width=360, tag=f"plot.{name}"):
                        dpg.add_plot_legend()
                        dpg.add_plot_axis(dpg.mvXAxis, label="iteration", tag=f"plot.{name}.x", auto_fit=True)
                        dpg.add_plot_axis(dpg.mvYAxis, tag=f"plot.{name}.y", auto_fit=True,
                                          scale=dpg.mvPlotScale_Log10)
                        dpg.add_drag_line(tag=f"plot.{name}.cursor", color=(250, 250, 250, 160), vertical=True,
                                          callback=self._dragged, user_data=name)

    def _set_scale(self, sender, log: bool) -> None:
        for name, _ in SERIES:
            dpg.configure_item(f"plot.{name}.y", scale=dpg.mvPlotScale_Log10 if log else dpg.mvPlotScale_Linear)

    def _dragged(self, sender, app_data, name: str) -> None:
        self.on_scrub(int(round(dpg.get_value(sender))))

    def refresh(self, state: AppState, force: bool = False) -> None:
        if state.cursor != self._cursor_drawn:
            for name, _ in SERIES:
                dpg.set_value(f"plot.{name}.cursor", float(state.cursor))
            self._cursor_drawn = state.cursor
        now = time.perf_counter()
        if state.version == self._drawn_version or (not force and now - self._drawn_at < REFRESH_SECONDS):
            return
        self._drawn_version, self._drawn_at = state.version, now
        wanted = {(plot, solver) for plot, _ in SERIES for solver in state.traces}
        for key in list(self._series):
            if key not in wanted:
                dpg.delete_item(self._series.pop(key))
        for plot, _ in SERIES:
            for solver, trace in state.traces.items():
                values = trace.series(plot)
                if plot != "energy" and np.isnan(values).all():
                    continue  # no ground truth: no error to plot
                key = (plot, solver)
                data = [list(range(len(values))), values.tolist()]
                if key not in self._series:
                    self._series[key] = dpg.add_line_series(*data, label=solver, parent=f"plot.{plot}.y")
                else:
                    dpg.set_value(self._series[key], data)
