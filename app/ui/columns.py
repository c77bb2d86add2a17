"""One column per solver: its state at the cursor as the problem's pictures (spec.panels, then the rendered
panels the engine draws, seen from the camera or the orbit chosen above the columns), the spec's metric lines,
the solver's step information and its estimate. Slots are built once (MAX_COLUMNS of them) and shown or hidden;
their pictures are rebuilt when the problem changes, since every problem has its own panels."""
from __future__ import annotations

import collections
import time
from typing import Any, Callable

import dearpygui.dearpygui as dpg
import numpy as np

from engine.problems.spec import CENTRE, Panel, ProblemSpec
from engine.solvers.base import Status

from ..live_trace import LiveTrace
from ..rendered import picture_key
from ..state import AppState, ObservationInfo, RunState
from .textures import BLANK, TexturePool

MAX_COLUMNS = 6
PICTURE_WIDTH = 128
"""Shown width of a square or tall picture; wide pictures get WIDE_PICTURE_WIDTH."""
WIDE_PICTURE_WIDTH = 220
SCROLLBAR_WIDTH = 14
PADDING = 12
SPACING = 8
COLUMN_WIDTH = WIDE_PICTURE_WIDTH + PADDING + SCROLLBAR_WIDTH
"""A column scrolls when its pictures are taller than it (a portrait image's four panels)."""
VIEW_CHOICES = ("camera", "orbit")
"""Where the rendered panels are seen from (the radio button above the columns)."""
MAX_VALUES_PER_GROUP = 7
"""Estimate coordinates shown per parameter group (ik has 72); the rest is summed up as '...'."""
DRAWN_PICTURES = 96
"""Pictures kept once drawn (ik's take tens of ms each), so that scrubbing back over them costs nothing."""
LIVE_REFRESH_SECONDS = 1 / 15
"""While the cursor follows a running run, the columns change at most this often: every change of a picture
is a texture upload, and iterations arrive faster than anyone can watch them."""
DONE = (70, 190, 110)
FAILED = (220, 70, 70)
RUNNING = (250, 196, 60)
DIM = (150, 150, 158)


def picture_width(image: np.ndarray) -> int:
    return WIDE_PICTURE_WIDTH if image.shape[1] > image.shape[0] else PICTURE_WIDTH


def info_text(key: str, value: float) -> str:
    """One line of a solver's step information: 'damping 0.001', 'accepted: yes', 'gain ratio 0.82'."""
    label = key.replace("_", " ")
    if np.isnan(value):
        return f"{label} -"
    if key == "accepted":
        return f"{label}: {'yes' if value > 0.5 else 'no'}"
    return f"{label} {value:.3g}"


def values_text(spec: ProblemSpec, record) -> str:
    """Energy, the spec's metrics, the solver's step information and the estimate by parameter group."""
    lines = [f"energy {record.energy:.4e}"]
    lines += [metric.text(record.metrics[metric.key]) for metric in spec.metrics if metric.key in record.metrics]
    lines += [info_text(key, value) for key, value in record.info.items()]
    if record.failure:
        lines.append(f"failed: {record.failure}")
    x, start = np.asarray(record.x), 0
    for group in spec.parameters:
        if group.kind == "image":  # the panels show it; its numbers tell nothing
            lines.append(f"{group.name}: {x.size:,} values in [{x.min():.3f}, {x.max():.3f}]")
            continue
        values = x[start:start + len(group.labels)]
        start += len(group.labels)
        shown = " ".join(f"{v:+.3f}" for v in values[:MAX_VALUES_PER_GROUP])
        more = f" ... ({len(values)})" if len(values) > MAX_VALUES_PER_GROUP else ""
        lines.append(f"{group.name} {shown}{more}" + (f" {group.unit}" if group.unit else ""))
    return "\n".join(lines)


def texture_name(slot: int, panel: str) -> str:
    return f"column{slot}.{panel}"


class SolverColumns:
    def __init__(self, textures: TexturePool, set_orbit: Callable[[bool], None]):
        """set_orbit(orbit): the user chose the orbit (True) or the camera as the rendered panels' view."""
        self.textures = textures
        self.set_orbit = set_orbit
        self._shown: dict[int, tuple] = {}
        """slot -> (record, observation) last drawn, to skip unchanged columns (compared by identity)."""
        self._drawn: collections.OrderedDict[tuple[int, str], tuple] = collections.OrderedDict()
        """(id of the record, panel key) -> (record, observation, picture); the objects are kept to check that
        an id was not reused."""
        self._refreshed_at = 0.0
        self._panels_of: str | None = None
        """The problem whose panels the slots hold."""
        self._rendered_shown: dict[str, np.ndarray] = {}
        """Picture name -> the rendered picture its image shows (compared by identity)."""

    def build(self, parent: int | str) -> None:
        with dpg.group(horizontal=True, parent=parent, tag="view3d.row", show=False):
            dpg.add_text("3D view from", color=DIM)
            dpg.add_radio_button(VIEW_CHOICES, tag="view3d.choice", horizontal=True, default_value=VIEW_CHOICES[0],
                                 callback=lambda sender, value: self.set_orbit(value == "orbit"))
            dpg.add_text("drag a 3D picture to turn it", tag="view3d.hint", color=DIM, show=False)
        with dpg.group(horizontal=True, parent=parent):
            for slot in range(MAX_COLUMNS):
                with dpg.child_window(width=COLUMN_WIDTH, height=-1, tag=f"column{slot}", show=False):
                    dpg.add_text("", tag=f"column{slot}.title", color=(232, 232, 232))
                    dpg.add_text("", tag=f"column{slot}.status", wrap=COLUMN_WIDTH - PADDING)
                    dpg.add_group(tag=f"column{slot}.panels")
                    dpg.add_text("", tag=f"column{slot}.values", wrap=COLUMN_WIDTH - PADDING)

    def _build_panels(self, spec: ProblemSpec) -> None:
        """Caption and image per panel of the problem, then per rendered panel; the images show a blank texture
        until drawn. A problem with rendered panels and more than two pictures has them two to a row, so that the
        column, wider, still shows all of them above its values."""
        pictures = [(panel.key, panel.title) for panel in (*spec.panels, *spec.rendered_panels)]
        per_row = 2 if spec.rendered_panels and len(pictures) > 2 else 1
        width = max(COLUMN_WIDTH, per_row * (PICTURE_WIDTH + SPACING) + PADDING + SCROLLBAR_WIDTH)
        for slot in range(MAX_COLUMNS):
            dpg.configure_item(f"column{slot}", width=width)
            for text in ("status", "values"):
                dpg.configure_item(f"column{slot}.{text}", wrap=width - PADDING)
            dpg.delete_item(f"column{slot}.panels", children_only=True)
            for start in range(0, len(pictures), per_row):
                with dpg.group(horizontal=True, parent=f"column{slot}.panels"):
                    for key, title in pictures[start:start + per_row]:
                        with dpg.group():
                            dpg.add_text(title, color=DIM)
                            dpg.add_image(BLANK, tag=f"column{slot}.image.{key}", width=PICTURE_WIDTH,
                                          height=PICTURE_WIDTH)
        dpg.configure_item("view3d.row", show=bool(spec.rendered_panels))
        self._panels_of = spec.name
        self._shown.clear()
        self._drawn.clear()
        self._rendered_shown.clear()

    def refresh(self, state: AppState) -> None:
        now = time.perf_counter()
        if state.run_state == RunState.RUNNING and state.follow and now - self._refreshed_at < LIVE_REFRESH_SECONDS:
            return
        self._refreshed_at = now
        if state.problem != self._panels_of:
            self._build_panels(state.spec)
        self._refresh_view_choice(state)
        names = list(state.traces)[:MAX_COLUMNS]
        for slot in range(MAX_COLUMNS):
            visible = slot < len(names)
            dpg.configure_item(f"column{slot}", show=visible)
            if visible:
                self._refresh_column(slot, state, state.traces[names[slot]])
            else:
                self._shown.pop(slot, None)

    def _refresh_column(self, slot: int, state: AppState, trace: LiveTrace) -> None:
        dpg.set_value(f"column{slot}.title", trace.solver)
        if not len(trace) or state.observation is None:
            dpg.set_value(f"column{slot}.status", "failed (see the log)" if trace.error else "waiting for the engine")
            dpg.configure_item(f"column{slot}.status", color=FAILED if trace.error else RUNNING)
            dpg.set_value(f"column{slot}.values", "")
            return
        record = trace.at(state.cursor)
        self._refresh_rendered(slot, state, record)
        shown = self._shown.get(slot)
        if shown is not None and shown[0] is record and shown[1] is state.observation and shown[2] == state.focus:
            return
        self._shown[slot] = (record, state.observation, state.focus)
        spec, observation = state.spec, state.observation
        for panel in spec.panels:
            image = self.picture(panel, record, observation, state.config, state.focus)
            self.textures.show(f"column{slot}.image.{panel.key}", texture_name(slot, panel.key), image,
                               picture_width(image))
        dpg.set_value(f"column{slot}.status", _status_text(trace, record.index))
        dpg.configure_item(f"column{slot}.status", color=_status_colour(trace, record.index))
        dpg.set_value(f"column{slot}.values", values_text(spec, record))

    def _refresh_view_choice(self, state: AppState) -> None:
        choice = "orbit" if state.orbit else "camera"
        if dpg.get_value("view3d.choice") != choice:
            dpg.set_value("view3d.choice", choice)
        dpg.configure_item("view3d.hint", show=state.orbit)

    def _refresh_rendered(self, slot: int, state: AppState, record: Any) -> None:
        """The rendered panels of the record from the chosen view, once the engine drew them; until then the
        column keeps the picture it showed."""
        truth = state.observation.ground_truth
        for panel in state.spec.rendered_panels:
            picture = state.rendered.get(picture_key(panel.key, record.x, truth, state.viewpoint))
            name = texture_name(slot, panel.key)
            if picture is not None and self._rendered_shown.get(name) is not picture:
                self._rendered_shown[name] = picture
                self.textures.show(f"column{slot}.image.{panel.key}", name, picture, picture_width(picture))

    def over_rendered(self, spec: ProblemSpec) -> bool:
        """The mouse is over a column's rendered picture (where a drag turns the orbit)."""
        tags = [f"column{slot}.image.{panel.key}" for slot in range(MAX_COLUMNS) for panel in spec.rendered_panels]
        return any(dpg.does_item_exist(tag) and dpg.is_item_hovered(tag) for tag in tags)

    def pointed(self, spec: ProblemSpec) -> tuple[float, float] | None:
        """Where the mouse is over a column's picture of the whole image, (x, y) fractions of it, for the panels
        that follow the cursor; None when it is over none (or no panel follows it)."""
        if not any(panel.follows_cursor for panel in spec.panels):
            return None
        x, y = dpg.get_mouse_pos(local=False)
        for slot in range(MAX_COLUMNS):
            for panel in spec.panels:
                tag = f"column{slot}.image.{panel.key}"
                if panel.follows_cursor or not dpg.does_item_exist(tag) or not dpg.is_item_hovered(tag):
                    continue
                left, top = dpg.get_item_rect_min(tag)
                width, height = dpg.get_item_rect_size(tag)
                if width > 0 and height > 0:
                    return (min(max((x - left) / width, 0.0), 1.0), min(max((y - top) / height, 0.0), 1.0))
        return None

    def picture(self, panel: Panel, record: Any, observation: ObservationInfo, config: dict[str, Any],
                focus: tuple[float, float] = CENTRE) -> np.ndarray:
        """The panel's picture of a record under the problem's config (and, for a panel that follows the cursor,
        at the focus), drawn once (the teach panel shares them; a new config comes with new records)."""
        key = (id(record), panel.key, focus if panel.follows_cursor else None)
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0] is record and drawn[1] is observation:
            self._drawn.move_to_end(key)
            return drawn[2]
        image = panel.picture(observation.observation, record.prediction, np.asarray(record.x),
                              observation.ground_truth, config, focus)
        self._drawn[key] = (record, observation, image)
        while len(self._drawn) > DRAWN_PICTURES:
            self._drawn.popitem(last=False)
        return image


def _failed(trace: LiveTrace) -> bool:
    return trace.records[-1].status == Status.FAILED


def _status_text(trace: LiveTrace, index: int) -> str:
    text = f"iteration {index} / {trace.last_index}"
    if trace.finished and index == trace.last_index:
        text += "  failed" if _failed(trace) else "  done"
    return text


def _status_colour(trace: LiveTrace, index: int) -> tuple[int, int, int]:
    if trace.finished and index == trace.last_index:
        return FAILED if _failed(trace) else DONE
    return RUNNING
