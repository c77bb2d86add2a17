"""A table of every solver's run: status, steps, computation time, final energy and errors."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from engine.solvers.base import Status

from ..live_trace import LiveTrace
from ..state import AppState

COLUMNS = ("solver", "status", "steps", "time (s)", "energy", "rot err (deg)", "trans err (m)", "IoU")


def summary_row(trace: LiveTrace) -> tuple[str, ...]:
    """The table's cells for one solver (its latest record)."""
    if not len(trace):
        return (trace.solver, "failed" if trace.error else "waiting") + ("",) * (len(COLUMNS) - 2)
    last = trace.records[-1]
    status = Status(last.status).name.lower().replace("_", " ") if trace.finished else "running"
    metric = lambda name, fmt: fmt.format(last.metrics[name]) if name in last.metrics else "-"  # noqa: E731
    return (trace.solver, status, str(trace.last_index), f"{last.elapsed:.2f}", f"{last.energy:.4e}",
            metric("rotation_error_deg", "{:.2f}"), metric("translation_error", "{:.4f}"), metric("iou", "{:.3f}"))


class SummaryTable:
    def __init__(self) -> None:
        self._rows: list[int | str] = []
        self._drawn_version = -1

    def build(self, parent: int | str) -> None:
        with dpg.table(header_row=True, parent=parent, tag="summary.table", borders_innerH=True,
                       borders_outerH=True, borders_innerV=True, row_background=True):
            for name in COLUMNS:
                dpg.add_table_column(label=name)

    def refresh(self, state: AppState) -> None:
        if state.version == self._drawn_version:
            return
        self._drawn_version = state.version
        traces = list(state.traces.values())
        while len(self._rows) > len(traces):
            dpg.delete_item(self._rows.pop())
        while len(self._rows) < len(traces):
            with dpg.table_row(parent="summary.table") as row:
                for _ in COLUMNS:
                    dpg.add_text("")
            self._rows.append(row)
        for row, trace in zip(self._rows, traces):
            for cell, text in zip(dpg.get_item_children(row, 1), summary_row(trace)):
                dpg.set_value(cell, text)
