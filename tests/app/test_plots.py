"""The plots without a window: plain empty axes before a run, lines redrawn only when new points arrived."""
from __future__ import annotations

import numpy as np

from app.state import AppState
from app.ui import plots as plots_module
from app.ui.plots import EMPTY_X, EMPTY_Y, Plots
from engine.worker import protocol as p


def _record(solver: str, index: int) -> p.IterationDone:
    return p.IterationDone(solver, index, np.zeros(7, np.float32), np.zeros((8, 8), np.float32), 1.0 / (index + 1),
                           np.zeros(7, np.float32), 0.1, 0.1, 0, {"iou": 0.5, "rotation_error_deg": 3.0})


def test_empty_plots_have_plain_axes_and_lines_follow_new_points(window, monkeypatch):
    limits, redrawn = {}, []
    monkeypatch.setattr(plots_module.dpg, "set_axis_limits",
                        lambda axis, low, high: limits.__setitem__(axis, (low, high)))
    monkeypatch.setattr(plots_module.dpg, "set_axis_limits_auto", lambda axis: limits.__setitem__(axis, "auto"))
    plots = Plots(lambda t: None)
    plots.build("test.window")
    state = AppState()
    plots.refresh(state, force=True)
    assert limits["plot0.y"] == EMPTY_Y[True] == (1e-3, 1.0) and limits["plot0.x"] == EMPTY_X  # not 1e-78 ticks
    assert all(limits[f"plot{i}.y"] == EMPTY_Y[True] for i in range(len(plots._plots)))

    state.apply(p.RunStarted(("nmr",), np.zeros(7, np.float32), (), {}))
    state.apply(_record("nmr", 0))
    plots.refresh(state, force=True)
    assert limits["plot0.y"] == "auto" and limits["plot0.x"] == "auto"
    monkeypatch.setattr(plots_module.dpg, "set_value", lambda *args: redrawn.append(args[0]))
    for _ in range(3):
        state.changed()  # the cursor moved, a message came: no new points
        plots.refresh(state, force=True)
    assert redrawn == []
    state.apply(_record("nmr", 1))
    plots.refresh(state, force=True)
    assert redrawn  # the new point is drawn
    state.clear_run()
    plots.refresh(state, force=True)
    assert limits["plot0.y"] == EMPTY_Y[True]
