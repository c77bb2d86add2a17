"""One column per solver: its state at the cursor as estimate, overlay and difference images, and its
parameters. Slots are built once (MAX_COLUMNS of them) and shown or hidden."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from engine.solvers.base import Status
from engine.visuals import PANELS, panel_images

from ..state import AppState
from .textures import DISPLAY_SIZE, TexturePool

MAX_COLUMNS = 6
COLUMN_WIDTH = DISPLAY_SIZE + 104
DONE = (70, 190, 110)
FAILED = (220, 70, 70)
RUNNING = (250, 196, 60)
METRIC_LABELS = (("rotation_error_deg", "rot err {:.2f} deg"), ("translation_error", "trans err {:.4f} m"),
                 ("iou", "IoU {:.3f}"))


def texture_tag(slot: int, panel: str) -> str:
    return f"tex.column{slot}.{panel}"


class SolverColumns:
    def __init__(self, textures: TexturePool):
        self.textures = textures
        self._shown: dict[int, tuple] = {}
        """slot -> (record, observation) last drawn, to skip unchanged columns (compared by identity)."""
        for slot in range(MAX_COLUMNS):
            for panel in PANELS:
                textures.add(texture_tag(slot, panel))

    def build(self, parent: int | str) -> None:
        with dpg.group(horizontal=True, parent=parent):
            for slot in range(MAX_COLUMNS):
                with dpg.child_window(width=COLUMN_WIDTH, height=-1, tag=f"column{slot}", show=False,
                                      no_scrollbar=True):
                    dpg.add_text("", tag=f"column{slot}.title", color=(232, 232, 232))
                    dpg.add_text("", tag=f"column{slot}.status")
                    for panel in PANELS:
                        dpg.add_text(panel, color=(150, 150, 158))
                        dpg.add_image(texture_tag(slot, panel), width=DISPLAY_SIZE, height=DISPLAY_SIZE)
                    dpg.add_text("", tag=f"column{slot}.values")

    def refresh(self, state: AppState) -> None:
        names = list(state.traces)[:MAX_COLUMNS]
        for slot in range(MAX_COLUMNS):
            visible = slot < len(names)
            dpg.configure_item(f"column{slot}", show=visible)
            if visible:
                self._refresh_column(slot, state, state.traces[names[slot]])
            else:
                self._shown.pop(slot, None)

    def _refresh_column(self, slot: int, state: AppState, trace) -> None:
        dpg.set_value(f"column{slot}.title", trace.solver)
        if not len(trace) or state.observation is None:
            dpg.set_value(f"column{slot}.status", "failed (see the log)" if trace.error else "waiting for the engine")
            dpg.configure_item(f"column{slot}.status", color=FAILED if trace.error else RUNNING)
            dpg.set_value(f"column{slot}.values", "")
            return
        record = trace.at(state.cursor)
        shown = self._shown.get(slot)
        if shown is not None and shown[0] is record and shown[1] is state.observation:
            return
        self._shown[slot] = (record, state.observation)
        for panel, image in zip(PANELS, panel_images(state.observation.image, record.rendering)):
            self.textures.write(texture_tag(slot, panel), image)
        dpg.set_value(f"column{slot}.status", _status_text(trace, record.index))
        dpg.configure_item(f"column{slot}.status", color=_status_colour(trace, record.index))
        dpg.set_value(f"column{slot}.values", _values_text(state, record))


def _status_text(trace, index: int) -> str:
    text = f"iteration {index} / {trace.last_index}"
    if trace.finished and index == trace.last_index:
        text += "  failed" if trace.records[-1].status == Status.FAILED else "  done"
    return text


def _status_colour(trace, index: int) -> tuple[int, int, int]:
    if trace.finished and index == trace.last_index:
        return FAILED if trace.records[-1].status == Status.FAILED else DONE
    return RUNNING


def _values_text(state: AppState, record) -> str:
    """Energy, errors and the estimate, grouped by the parameters' first letter (q: rotation, t: offset)."""
    lines = [f"energy {record.energy:.4e}"]
    lines += [label.format(record.metrics[name]) for name, label in METRIC_LABELS if name in record.metrics]
    groups: dict[str, list[str]] = {}
    for name, value in zip(state.parameter_names, np.asarray(record.x)):
        groups.setdefault(name[0], []).append(f"{value:+.3f}")
    lines += [f"{group} {' '.join(values)}" for group, values in groups.items()]
    return "\n".join(lines)
