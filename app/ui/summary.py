"""A table of every solver's run: its status beside the columns of engine.summary's Markdown table (steps,
time and the problem's metrics, as the CLI prints them), rebuilt when those columns change."""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from engine.problems.spec import ProblemSpec
from engine.solvers.base import Status
from engine.summary import markdown_table, summarize_trace

from ..live_trace import LiveTrace
from ..state import AppState

REFRESH_SECONDS = 0.2
"""The table is recomputed at most this often while results stream in."""


def _status(trace: LiveTrace) -> str:
    if not len(trace):
        return "failed" if trace.error else "waiting"
    if trace.error:
        return "failed"
    return Status(trace.records[-1].status).name.lower().replace("_", " ") if trace.finished else "running"


def summary_table(spec: ProblemSpec, traces: dict[str, LiveTrace]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(headers, rows): 'Solver', 'Status', then engine.summary's columns, one row per solver; a solver with no
    iteration yet has empty cells."""
    computed = {name: summarize_trace(spec, trace.to_trace(None)) for name, trace in traces.items() if len(trace)}
    headers, cells = ("Solver", "Status"), {}
    if computed:
        lines = markdown_table(spec, computed).splitlines()
        split = lambda line: tuple(cell.strip() for cell in line.strip("|").split("|"))  # noqa: E731
        headers += split(lines[0])[1:]
        cells = {row[0]: row[1:] for row in map(split, lines[2:])}
    width = len(headers) - 2
    rows = [(name, _status(trace)) + cells.get(name, ("",) * width) for name, trace in traces.items()]
    return headers, rows


class SummaryTable:
    def __init__(self) -> None:
        self._headers: tuple[str, ...] = ()
        self._drawn_version = -1
        self._drawn_at = 0.0

    def build(self, parent: int | str) -> None:
        dpg.add_group(parent=parent, tag="summary.area")

    def refresh(self, state: AppState) -> None:
        now = time.perf_counter()
        if state.version == self._drawn_version or now - self._drawn_at < REFRESH_SECONDS:
            return
        self._drawn_version, self._drawn_at = state.version, now
        headers, rows = summary_table(state.spec, state.traces)
        if headers != self._headers:
            self._headers = headers
            dpg.delete_item("summary.area", children_only=True)
            with dpg.table(header_row=True, parent="summary.area", tag="summary.table", borders_innerH=True,
                           borders_outerH=True, borders_innerV=True, row_background=True):
                for header in headers:
                    dpg.add_table_column(label=header)
        dpg.delete_item("summary.table", children_only=True, slot=1)
        for row in rows:
            with dpg.table_row(parent="summary.table"):
                for cell in row:
                    dpg.add_text(cell)
