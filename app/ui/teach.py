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
INACTIVE = (150, 150, 158)
SMALL = 96


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
        f"1 render   r_{t} = f(x_{t})   ({record.rendering.shape[0]} px silhouette, shown left)",
        f"2 compare  E_{t} = E(r_{t}, y) = {record.energy:.4e}   (difference, shown right)",
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
        self._drawn_version = -1
        self._slice_drawn: object = None

    def build(self, parent: int | str) -> None:
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
                    for caption, texture in (("y: observation", "tex.observation"),
                                             ("f(x_t): rendering", "tex.teach.estimate"),
                                             ("compare: difference", "tex.teach.difference")):
                        with dpg.group():
                            dpg.add_text(caption, color=INACTIVE)
                            dpg.add_image(texture, width=SMALL, height=SMALL)
            with dpg.child_window(width=-1, height=-1, border=False):
                with dpg.group(horizontal=True):
                    dpg.add_text("energy slice over")
                    dpg.add_combo(SLICE_AXES, default_value="rx", tag="teach.axis0", width=60)
                    dpg.add_combo(SLICE_AXES, default_value="ry", tag="teach.axis1", width=60)
                    dpg.add_button(label="compute around the estimate", tag="teach.slice", callback=self._slice)
                with dpg.plot(tag="teach.plot", height=-1, width=-1, equal_aspects=False):
                    dpg.add_plot_legend()
                    dpg.add_plot_axis(dpg.mvXAxis, tag="teach.x", label="rx")
                    dpg.add_plot_axis(dpg.mvYAxis, tag="teach.y", label="ry")
                    dpg.add_heat_series([0.0], 1, 1, parent="teach.y", tag="teach.heat", format="", show=False)
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
            dpg.configure_item("teach.heat", show=False)
            self._clear_paths()
            self._slice_drawn = None
            return
        if self._slice_drawn is not result:
            (first, second), energy = result.coordinates, result.energy
            dpg.configure_item("teach.heat", rows=energy.shape[0], cols=energy.shape[1], show=True,
                               bounds_min=(float(first[0]), float(second[0])),
                               bounds_max=(float(first[-1]), float(second[-1])),
                               scale_min=float(energy.min()), scale_max=float(energy.max()))
            # heat series rows run from the top (the largest second-axis value) down
            dpg.set_value("teach.heat", [energy[::-1].ravel().tolist()])
            dpg.configure_item("teach.x", label=result.axes[0])
            dpg.configure_item("teach.y", label=result.axes[1])
            dpg.fit_axis_data("teach.x")
            dpg.fit_axis_data("teach.y")
            self._slice_drawn = result
        self._clear_paths()
        for name, trace in state.traces.items():
            if not len(trace):
                continue
            end = trace.at(state.cursor).index
            path = np.stack([record.x for record in trace.records[: end + 1]])
            points = slice_coordinates(path, result.center, result.axes)
            self._paths.append(dpg.add_line_series(points[:, 0].tolist(), points[:, 1].tolist(), label=name,
                                                   parent="teach.y"))

    def _clear_paths(self) -> None:
        for item in self._paths:
            dpg.delete_item(item)
        self._paths = []

