"""app.ui.dialogs without a window: saving over an existing file asks first."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import pytest

from app.ui.dialogs import Dialogs


@pytest.fixture
def dialogs():
    chosen: list[tuple[str, str]] = []
    dpg.create_context()
    made = Dialogs({name: (lambda path, name=name: chosen.append((name, path)))
                    for name in ("save_session", "open_session", "export")},
                   answer=lambda choice: None, save_cancelled=lambda: None)
    made.build()
    made.chosen = chosen
    yield made
    dpg.destroy_context()


def _shown(tag: str) -> bool:
    return dpg.get_item_configuration(tag)["show"]


@pytest.mark.parametrize("name", ["save_session", "export"])
def test_saving_over_an_existing_file_asks_first(dialogs, tmp_path, name):
    path = tmp_path / "there.npz"
    path.write_text("keep me")
    dialogs._chosen(None, {"file_path_name": str(path)}, name)
    assert dialogs.chosen == [] and _shown("replace.modal") and str(path) in dpg.get_value("replace.text")
    dpg.get_item_callback("replace.cancel")()
    assert dialogs.chosen == [] and not _shown("replace.modal")
    dialogs._chosen(None, {"file_path_name": str(path)}, name)
    dpg.get_item_callback("replace.yes")()
    assert dialogs.chosen == [(name, str(path))] and not _shown("replace.modal")


def test_a_new_file_or_opening_does_not_ask(dialogs, tmp_path):
    (tmp_path / "there.npz").write_text("")
    dialogs._chosen(None, {"file_path_name": str(tmp_path / "new.npz")}, "save_session")
    dialogs._chosen(None, {"file_path_name": str(tmp_path / "there.npz")}, "open_session")
    assert dialogs.chosen == [("save_session", str(tmp_path / "new.npz")),
                              ("open_session", str(tmp_path / "there.npz"))]
