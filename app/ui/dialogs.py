"""File dialogs, built once and shown on demand, and the modal that shows an error."""
from __future__ import annotations

import os
from typing import Callable

import dearpygui.dearpygui as dpg

from engine.images import IMAGE_EXTENSIONS
from engine.meshes import SUPPORTED_EXTENSIONS

DIALOGS = {
    "mesh": ("Open mesh", SUPPORTED_EXTENSIONS, False),
    "observation": ("Open observation", IMAGE_EXTENSIONS, False),
    "open_session": ("Open session", (".npz",), False),
    "save_session": ("Save session", (".npz",), True),
    "export": ("Export recording", (".gif", ".mp4"), True),
}
"""name -> (title, extensions, saving)."""


class Dialogs:
    def __init__(self, handlers: dict[str, Callable[[str], None]]):
        self.handlers = handlers

    def build(self) -> None:
        for name, (title, extensions, saving) in DIALOGS.items():
            with dpg.file_dialog(label=title, tag=f"dialog.{name}", show=False, modal=True, width=720, height=460,
                                 callback=self._chosen, user_data=name, default_path=os.getcwd(),
                                 default_filename="" if not saving else _default_name(name)):
                if len(extensions) > 1 and not saving:
                    dpg.add_file_extension("{" + ",".join(extensions) + "}", color=(250, 196, 60))
                for extension in extensions:
                    dpg.add_file_extension(extension)
                if not saving:
                    dpg.add_file_extension(".*")
        with dpg.window(label="feedbacklab", tag="error.modal", modal=True, show=False, no_resize=True,
                        width=560, pos=(320, 240)):
            dpg.add_text("", tag="error.text", wrap=530, color=(235, 120, 120))
            dpg.add_button(label="OK", width=80, callback=lambda: dpg.configure_item("error.modal", show=False))

    def open(self, name: str) -> None:
        dpg.show_item(f"dialog.{name}")

    def _chosen(self, sender, app_data: dict, name: str) -> None:
        path = app_data.get("file_path_name", "")
        if path:
            self.handlers[name](path)

    @staticmethod
    def show_error(text: str) -> None:
        dpg.set_value("error.text", text)
        dpg.configure_item("error.modal", show=True)


def _default_name(name: str) -> str:
    return {"save_session": "session", "export": "comparison"}[name]
