"""The views' pictures (app/ui/textures.py, app/ui/columns.py) without a window: each picture is uploaded once,
when it changes, and nothing is uploaded again in a frame where nothing changed; the rendered pictures the
engine drew."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from app.rendered import picture_key
from app.state import AppState
from app.ui import columns as columns_module
from app.ui.columns import SolverColumns
from app.ui.textures import TexturePool
from engine.problems.spec import CAMERA_VIEW
from engine.worker import protocol as p

from . import toy_problem
from .conftest import settle


def _textures(registry) -> list[str]:
    return [dpg.get_item_info(item)["type"] for item in dpg.get_item_children(registry, 1)]


def _record(index: int) -> p.IterationDone:
    x = np.array([0.1 * index, 0.2], np.float32)
    return p.IterationDone("gd", index, x, np.array([0.1 * index, 0.2, 0.02 * index], np.float32), 1.0 / (index + 1),
                           np.zeros(2, np.float32), 0.01 * index, 0.01, 0, {"residual": 0.5})


def test_no_texture_is_uploaded_again_in_every_frame(window):
    """Dear PyGui uploads raw and dynamic textures in every frame: the pool holds static ones only."""
    pool = TexturePool(window)
    dpg.add_image("tex.blank", tag="test.image", parent="test.window")
    pool.show("test.image", "picture", np.zeros((40, 60, 3), np.uint8), 120)
    assert _textures(window) and all(kind.endswith("mvStaticTexture") for kind in _textures(window))
    assert dpg.get_item_configuration("test.image")["height"] == 80


def test_a_replaced_picture_is_deleted_after_the_next_frame(window):
    pool = TexturePool(window)
    dpg.add_image("tex.blank", tag="test.image", parent="test.window")
    pool.show("test.image", "picture", np.zeros((8, 8), np.float32), 8)
    first = pool.shown["picture"]
    pool.show("test.image", "picture", np.ones((16, 8), np.float32), 8)  # another size: its own texture
    assert dpg.does_item_exist(first) and pool.uploads == 2
    pool.collect()
    assert not dpg.does_item_exist(first) and dpg.does_item_exist(pool.shown["picture"])
    assert len(_textures(window)) == 2  # the blank one and the picture shown


def test_columns_upload_a_picture_only_when_it_changed(window, monkeypatch):
    toy_problem.register(monkeypatch)
    monkeypatch.setattr(columns_module, "LIVE_REFRESH_SECONDS", 0.0)
    pool = TexturePool(window)
    columns = SolverColumns(pool, lambda orbit: None)
    columns.build("test.window")
    state = AppState(problem="toy", config={"scale": 1.0, "samples_spread": 1.0})
    state.apply(p.ObservationReady(np.array([0.0, 0.2, 0.0], np.float32), None, "test"))
    state.apply(p.RunStarted(("gd",), np.zeros(2, np.float32), ("a", "b"), {}))
    state.apply(_record(0))
    columns.refresh(state)
    assert not dpg.is_item_shown("view3d.row")  # the toy problem renders no panels
    uploads = pool.uploads
    for _ in range(5):  # frames with nothing new
        pool.collect()
        columns.refresh(state)
    assert pool.uploads == uploads == 1
    state.apply(_record(1))
    columns.refresh(state)
    assert pool.uploads == 2
    monkeypatch.setattr(columns_module, "LIVE_REFRESH_SECONDS", 60.0)
    state.apply(_record(2))
    columns.refresh(state)  # following a running run: at most every LIVE_REFRESH_SECONDS
    assert pool.uploads == 2
    state.set_cursor(0, follow=False)  # the user scrubs: at once
    columns.refresh(state)
    assert pool.uploads == 3


def test_columns_show_the_rendered_pictures_the_engine_drew(window, solved):
    """pose6d's columns: the view choice above them, the 3D picture after the panels once the engine drew it,
    from the camera or the orbit."""
    state = solved.state
    pool = TexturePool(window)
    chosen: list[bool] = []
    columns = SolverColumns(pool, chosen.append)
    columns.build("test.window")
    columns.refresh(state)
    assert dpg.is_item_shown("view3d.row") and dpg.get_value("view3d.choice") == "camera"
    assert not dpg.is_item_shown("view3d.hint")
    truth = state.observation.ground_truth
    for slot, trace in enumerate(state.traces.values()):
        picture = state.rendered.get(picture_key("view3d", trace.at(state.cursor).x, truth, CAMERA_VIEW))
        shown = pool.shown[f"column{slot}.view3d"]
        assert dpg.get_item_configuration(f"column{slot}.image.view3d")["texture_tag"] == shown
        assert dpg.get_item_configuration(shown)["width"] == picture.shape[1]
    uploads = pool.uploads
    columns.refresh(state)
    assert pool.uploads == uploads  # nothing new
    solved.set_orbit(True)
    columns.refresh(state)  # not drawn from the orbit yet: the camera's picture stays
    assert pool.uploads == uploads and dpg.get_value("view3d.choice") == "orbit" and dpg.is_item_shown("view3d.hint")
    settle(solved)
    columns.refresh(state)
    assert pool.uploads == uploads + len(state.traces)
    dpg.get_item_callback("view3d.choice")("view3d.choice", "camera")
    assert chosen == [False]
    assert not columns.over_rendered(state.spec)  # no mouse over it without a window
